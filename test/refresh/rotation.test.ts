// The refresh grant in two statements (src/oidc/refresh/rotation.ts, migrations/tenant/0510): one read
// (refresh_find) and one write with one commit (refresh_rotate), on real PostgreSQL and on PGlite.
// The family rules themselves are test/refresh/families.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { codeFlow } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
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
  describe(`refresh rotation in two statements (${database})`, () => {
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

    test('a refresh reads once and writes once: refresh_find, refresh_rotate, no begin or commit', { skip: database === 'pglite' && 'statements are counted on the pg client' }, async () => {
      const tokens = await signIn();
      let answer: Awaited<ReturnType<typeof refresh>> | undefined;
      const sent = await statementsDuring(async () => {
        answer = await refresh(tokens.refresh_token!);
      });
      assert.equal(answer!.status, 200, JSON.stringify(answer!.body));
      assert.ok(answer!.body.refresh_token && answer!.body.id_token && answer!.body.access_token);
      assert.equal(sent.length, 2, `statements sent:\n${sent.join('\n')}`);
      assert.match(sent[0]!, /\."refresh_find"\(/);
      assert.match(sent[1]!, /\."refresh_rotate"\(/);
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
  });
}
