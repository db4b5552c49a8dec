// The refresh grant in one round trip (src/oidc/refresh/rotation.ts, tenant migrations 0510 and 0540):
// the first refresh of a family on a node is one read (refresh_find) and one write with one commit
// (refresh_apply); the next ones are served from what the node kept and are refresh_apply alone,
// which checks under the family lock that what was kept still holds. On real PostgreSQL and on
// PGlite. The family rules themselves are test/refresh/families.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { codeFlow } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { verifyAuditChain } from '../../src/audit/audit-log.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';

const SECRET = 'rp-a-dev-secret-0000000';
const REDIRECT = 'http://localhost:3001/callback';

/** Every statement a pg client sends while `work` runs (PostgreSQL only). */
async function statementsDuring(work: () => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    sent.push((text ?? '?').replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await work();
  } finally {
    pg.Client.prototype.query = original;
  }
  // The tenant pool's version check (every 2 s) is not part of the refresh.
  return sent.filter((text) => !text.includes('"facet_control"."tenants"'));
}

for (const database of ['postgres', 'pglite'] as const) {
  describe(`refresh rotation in one round trip (${database})`, () => {
    let facet: TestFacet;
    let tenant: TenantRecord;
    let issuer: string;
    let userId: string;

    before(async () => {
      facet = await startTestFacet({ database });
      await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/families.yaml')), { kek: facet.config.kek, production: false });
      tenant = (await findTenant(facet.database.db, 'families'))!;
      issuer = `${facet.baseUrl}/t/families`;
      userId = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'rosa' }))).id;
    });
    after(async () => facet?.close());

    async function signIn() {
      const config = await discover(issuer, 'rp-a', SECRET);
      return (await codeFlow(config, { origin: facet.baseUrl, sub: userId, redirectUri: REDIRECT, scope: 'openid offline_access' })).tokens;
    }

    async function refresh(refreshToken: string, extra: Record<string, string> = {}) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`rp-a:${SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    }

    const lastFamily = () =>
      withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('refresh_families').selectAll().orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow());

    const issuedEvents = () =>
      withTenant(facet.database.db, tenant, async (trx) => (await trx.selectFrom('audit_events').select('data').where('type', '=', 'token.issued').execute()).map((r) => r.data as Record<string, unknown>));

    test('a refresh reads once and writes once: refresh_find, refresh_apply, no begin or commit; the next one is refresh_apply alone', { skip: database === 'pglite' && 'statements are counted on the pg client' }, async () => {
      const tokens = await signIn();
      let answer: Awaited<ReturnType<typeof refresh>> | undefined;
      const sent = await statementsDuring(async () => {
        answer = await refresh(tokens.refresh_token!);
      });
      assert.equal(answer!.status, 200, JSON.stringify(answer!.body));
      assert.ok(answer!.body.refresh_token && answer!.body.id_token && answer!.body.access_token);
      assert.equal(sent.length, 2, `statements sent:\n${sent.join('\n')}`);
      assert.match(sent[0]!, /\."refresh_find"\(/);
      assert.match(sent[1]!, /\."refresh_apply"\(/);
      for (let i = 0; i < 3; i++) {
        const next = await statementsDuring(async () => {
          answer = await refresh(answer!.body.refresh_token!);
        });
        assert.equal(answer!.status, 200, JSON.stringify(answer!.body));
        assert.ok(answer!.body.refresh_token && answer!.body.id_token && answer!.body.access_token);
        assert.equal(next.length, 1, `statements sent:\n${next.join('\n')}`);
        assert.match(next[0]!, /^select "tenant_families"\."refresh_apply"\(/);
      }
    });

    test('the rotation is complete: token spent, successor live, family moved, access token stored, audit event appended', async () => {
      const tokens = await signIn();
      const before = await lastFamily();
      const eventsBefore = (await issuedEvents()).length;
      const rotated = await refresh(tokens.refresh_token!);
      assert.equal(rotated.status, 200);
      const after = await lastFamily();
      assert.equal(after.generation, before.generation + 1);
      assert.equal(after.previous_hash, before.current_hash);
      assert.ok(after.current_hash && after.current_hash !== before.current_hash);
      assert.ok(after.grant_hash, 'the family names its grant');
      const records = await withTenant(facet.database.db, tenant, (trx) =>
        trx.selectFrom('oidc_records').select(['kind', 'id_hash', 'consumed_at']).where('grant_id', '=', after.grant_id).execute(),
      );
      assert.ok(records.find((r) => r.kind === 'RefreshToken' && r.id_hash === before.current_hash)?.consumed_at, 'the presented token is spent');
      assert.equal(records.find((r) => r.kind === 'RefreshToken' && r.id_hash === after.current_hash)?.consumed_at, null, 'its successor is live');
      assert.equal(records.filter((r) => r.kind === 'AccessToken').length, 2, 'the first and the new access token');
      const events = await issuedEvents();
      assert.equal(events.length, eventsBefore + 1);
      assert.equal(events.at(-1)!.grant_type, 'refresh_token');
      // The successor works, through the same path.
      assert.equal((await refresh(rotated.body.refresh_token!)).status, 200);
    });

    test('a refresh oidc-provider refuses after the read writes nothing', async () => {
      const tokens = await signIn();
      const before = await lastFamily();
      const refused = await refresh(tokens.refresh_token!, { scope: 'openid offline_access email' });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_scope');
      const after = await lastFamily();
      assert.equal(after.generation, before.generation);
      assert.equal(after.current_hash, before.current_hash);
      assert.equal((await refresh(tokens.refresh_token!)).status, 200, 'the token was not spent');
    });

    test('a family from before migration 0510 (no grant hash) still rotates, and learns its grant hash', async () => {
      const tokens = await signIn();
      const family = await lastFamily();
      await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('refresh_families').set({ grant_hash: null }).where('grant_id', '=', family.grant_id).execute());
      const rotated = await refresh(tokens.refresh_token!);
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.ok((await lastFamily()).grant_hash);
      assert.equal((await refresh(rotated.body.refresh_token!)).status, 200);
    });

    test('a deleted account is not served from the read', async () => {
      const tokens = await signIn();
      await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('users').set({ status: 'disabled' }).where('id', '=', userId).execute());
      try {
        const refused = await refresh(tokens.refresh_token!);
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error, 'invalid_grant');
      } finally {
        await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('users').set({ status: 'active' }).where('id', '=', userId).execute());
      }
    });

    test('a kept read: an account disabled since the last rotation is refused and nothing is written', async () => {
      const tokens = await signIn();
      const first = await refresh(tokens.refresh_token!);
      assert.equal(first.status, 200);
      const before = await lastFamily();
      await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('users').set({ status: 'disabled' }).where('id', '=', userId).execute());
      try {
        const refused = await refresh(first.body.refresh_token!);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'invalid_grant');
        const after = await lastFamily();
        assert.equal(after.generation, before.generation);
        assert.equal(after.current_hash, before.current_hash);
      } finally {
        await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('users').set({ status: 'active' }).where('id', '=', userId).execute());
      }
      assert.equal((await refresh(first.body.refresh_token!)).status, 200, 'the token was not spent');
    });

    test('a kept read: an account changed since the last rotation answers 503 and writes nothing; the retry reads afresh and rotates', async () => {
      const tokens = await signIn();
      const first = await refresh(tokens.refresh_token!);
      assert.equal(first.status, 200);
      const before = await lastFamily();
      const events = (await issuedEvents()).length;
      await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('users').set({ display_name: 'Rosa Renamed' }).where('id', '=', userId).execute());
      try {
        const stale = await refresh(first.body.refresh_token!);
        assert.equal(stale.status, 503, JSON.stringify(stale.body));
        assert.equal(stale.body.error, 'temporarily_unavailable');
        const after = await lastFamily();
        assert.equal(after.generation, before.generation);
        assert.equal(after.current_hash, before.current_hash);
        assert.equal((await issuedEvents()).length, events, 'no audit event');
        const retried = await refresh(first.body.refresh_token!);
        assert.equal(retried.status, 200, JSON.stringify(retried.body));
        assert.equal((await lastFamily()).generation, before.generation + 1);
      } finally {
        await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('users').set({ display_name: null }).where('id', '=', userId).execute());
      }
    });

    test('a kept read: a token revoked since the last rotation is refused', async () => {
      const tokens = await signIn();
      const first = await refresh(tokens.refresh_token!);
      assert.equal(first.status, 200);
      const revoked = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`rp-a:${SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ token: first.body.refresh_token!, token_type_hint: 'refresh_token' }),
      });
      assert.equal(revoked.status, 200);
      const refused = await refresh(first.body.refresh_token!);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
    });

    /** Moves the family on as another node would have: the live token spent `secondsAgo`, a successor X stored. */
    async function rotatedElsewhere(secondsAgo: number) {
      const family = await lastFamily();
      const spentAt = new Date(Date.now() - secondsAgo * 1000);
      const elsewhere = `elsewhere-${family.generation}-${family.grant_id}`;
      await withTenant(facet.database.db, tenant, async (trx) => {
        await trx.updateTable('oidc_records').set({ consumed_at: spentAt }).where('kind', '=', 'RefreshToken').where('id_hash', '=', family.current_hash!).execute();
        await trx.insertInto('oidc_records').values({ kind: 'RefreshToken', id_hash: elsewhere, payload: JSON.stringify({ kind: 'RefreshToken' }), grant_id: family.grant_id }).execute();
        await trx
          .updateTable('refresh_families')
          .set({ previous_hash: family.current_hash, previous_spent_at: spentAt, current_hash: elsewhere, generation: family.generation + 1, last_used_at: spentAt })
          .where('grant_id', '=', family.grant_id)
          .execute();
      });
      return { family, elsewhere };
    }

    test('a kept read of a family another node rotated within the grace window: a grace retry, the other successor stops working', async () => {
      const tokens = await signIn();
      const first = await refresh(tokens.refresh_token!);
      assert.equal(first.status, 200);
      const { elsewhere } = await rotatedElsewhere(1);
      const retried = await refresh(first.body.refresh_token!);
      assert.equal(retried.status, 200, JSON.stringify(retried.body));
      const after = await lastFamily();
      assert.notEqual(after.current_hash, elsewhere);
      const gone = await withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('oidc_records').select('id_hash').where('kind', '=', 'RefreshToken').where('id_hash', '=', elsewhere).executeTakeFirst());
      assert.equal(gone, undefined, 'the successor handed out by the other node was removed');
      assert.equal((await refresh(retried.body.refresh_token!)).status, 200);
    });

    test('a kept read of a family another node rotated before the grace window: reuse, the family ends', async () => {
      const tokens = await signIn();
      const first = await refresh(tokens.refresh_token!);
      assert.equal(first.status, 200);
      await rotatedElsewhere(60);
      const refused = await refresh(first.body.refresh_token!);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      assert.ok((await lastFamily()).ended_at, 'the family ended');
    });

    test('rotations of several families ready at once go in one refresh_apply_batch; each is applied and audited, the chain holds', async () => {
      const families = 8;
      let current = await Promise.all(
        Array.from({ length: families }, async () => {
          const first = await refresh((await signIn()).refresh_token!);
          assert.equal(first.status, 200);
          return first.body.refresh_token!;
        }),
      );
      let batched = false;
      for (let round = 0; round < 6 && (!batched || round < 2); round++) {
        const events = (await issuedEvents()).length;
        const run = async () => {
          const answers = await Promise.all(current.map((token) => refresh(token)));
          for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
          current = answers.map((answer) => answer.body.refresh_token!);
        };
        if (database === 'postgres') {
          const sent = await statementsDuring(run);
          if (sent.some((text) => text.includes('"refresh_apply_batch"('))) batched = true;
          assert.ok(sent.length <= families, `at most one statement per refresh:\n${sent.join('\n')}`);
        } else {
          await run();
        }
        assert.equal((await issuedEvents()).length, events + families, 'one audit event per rotation');
      }
      if (database === 'postgres') assert.ok(batched, 'eight concurrent refreshes were never sent together');
      // Every family's live token is the one handed out last, and each works once more.
      for (const token of current) assert.equal((await refresh(token)).status, 200);
      const chain = await withTenant(facet.database.db, tenant, (trx) => verifyAuditChain(trx));
      assert.ok(chain.ok, JSON.stringify(chain));
    });
  });
}
