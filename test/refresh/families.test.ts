// Refresh-token families end to end, against the real database (PostgreSQL in CI), driving the
// token endpoint with openid-client and raw HTTP. Time moves through an injected clock.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { sql } from 'kysely';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { authorizeAs, codeFlow } from '../support/code-flow.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { endFamiliesForAccount } from '../../src/oidc/refresh/families.ts';
import { softDeleteAccount } from '../../src/accounts/lifecycle.ts';
import { createRecordIdCodec } from '../../src/oidc/record-ids.ts';

const SECRETS: Record<string, string> = { 'rp-a': 'rp-a-dev-secret-0000000', 'rp-b': 'rp-b-dev-secret-0000000', 'rp-strict': 'rp-strict-dev-secret-000' };
const REDIRECT = 'http://localhost:3001/callback';

describe('refresh-token families', () => {
  let facet: TestFacet;
  let tenant: TenantRecord;
  let issuer: string;
  let userId: string;
  let offset = 0;
  const reuseEvents: Array<{ clientId: string; reason: string }> = [];

  before(async () => {
    facet = await startTestFacet({ hooks: { clock: () => Date.now() + offset, onReuseDetected: (e) => reuseEvents.push(e) } });
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/families.yaml')), { kek: facet.config.kek, production: false });
    tenant = (await findTenant(facet.database.db, 'families'))!;
    issuer = `${facet.baseUrl}/t/families`;
    userId = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'rita' }))).id;
  });
  after(async () => facet?.close());

  async function signIn(clientId: string) {
    const config = await discover(issuer, clientId, SECRETS[clientId]);
    const { tokens, jar } = await codeFlow(config, { origin: facet.baseUrl, sub: userId, redirectUri: REDIRECT, scope: 'openid offline_access' });
    return { config, tokens, jar };
  }

  async function refreshRaw(clientId: string, refreshToken: string) {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${SECRETS[clientId]}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  async function introspect(token: string) {
    const config = await discover(issuer, 'rp-a', SECRETS['rp-a']);
    return (await client.tokenIntrospection(config, token)).active;
  }

  async function family(grantIdOf: string) {
    return withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('refresh_families').selectAll().where('grant_id', '=', grantIdOf).executeTakeFirstOrThrow());
  }

  /** The family of the most recent sign-in (tests run one at a time). */
  async function grantIdOf(_refreshToken: string) {
    const row = await withTenant(facet.database.db, tenant, (trx) =>
      trx.selectFrom('refresh_families').select('grant_id').orderBy('created_at', 'desc').limit(1).executeTakeFirst(),
    );
    return row?.grant_id as string | undefined;
  }

  async function liveRefreshTokens(grantId: string) {
    const rows = await withTenant(facet.database.db, tenant, (trx) =>
      trx.selectFrom('oidc_records').select('id_hash').where('kind', '=', 'RefreshToken').where('grant_id', '=', grantId).where('consumed_at', 'is', null).execute(),
    );
    return rows.length;
  }

  async function reuseAuditEvents() {
    const rows = await withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('audit_events').selectAll().where('type', '=', 'refresh_token.reuse_detected').orderBy('id').execute());
    return rows as Array<(typeof rows)[number] & { data: any }>;
  }

  test('every refresh rotates and advances the generation', async () => {
    offset = 0;
    const { config, tokens } = await signIn('rp-a');
    const first = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const second = await client.refreshTokenGrant(config, first.refresh_token!);
    assert.notEqual(first.refresh_token, tokens.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    const spent = await refreshRaw('rp-a', tokens.refresh_token!); // generation 0 after two rotations: theft
    assert.equal(spent.status, 400);
    assert.equal(spent.body.error, 'invalid_grant');
  });

  test('a retry inside the grace window gets a valid pair and revokes nothing', async () => {
    offset = 0;
    const { tokens } = await signIn('rp-a');
    const lost = await refreshRaw('rp-a', tokens.refresh_token!); // the response the client never saw
    assert.equal(lost.status, 200);
    offset = 9_000;
    const retry = await refreshRaw('rp-a', tokens.refresh_token!);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.notEqual(retry.body.refresh_token, lost.body.refresh_token, 'a fresh successor');
    // The successor handed out before is dead; the new one works; the family lives on.
    assert.equal((await refreshRaw('rp-a', lost.body.refresh_token!)).status, 400);
    offset = 0;
  });

  test('the retried successor keeps working when nothing else was presented', async () => {
    offset = 0;
    const { tokens } = await signIn('rp-a');
    const lost = await refreshRaw('rp-a', tokens.refresh_token!);
    offset = 5_000;
    const retry = await refreshRaw('rp-a', tokens.refresh_token!);
    assert.equal(retry.status, 200);
    const next = await refreshRaw('rp-a', retry.body.refresh_token!);
    assert.equal(next.status, 200, 'the family is intact');
    assert.equal(await introspect(next.body.access_token!), true);
    assert.ok(lost.body.access_token);
    offset = 0;
  });

  test('the previous token after the window revokes the whole family', async () => {
    offset = 0;
    const before = reuseEvents.length;
    const { tokens } = await signIn('rp-a');
    const grantId = (await grantIdOf(tokens.refresh_token!))!;
    const rotated = await refreshRaw('rp-a', tokens.refresh_token!);
    assert.equal(rotated.status, 200);
    offset = 11_000;
    const late = await refreshRaw('rp-a', tokens.refresh_token!);
    assert.equal(late.status, 400);
    assert.equal(late.body.error, 'invalid_grant');
    // Every member is dead: the current refresh token and the access tokens.
    assert.equal((await refreshRaw('rp-a', rotated.body.refresh_token!)).status, 400);
    assert.equal(await introspect(rotated.body.access_token!), false);
    assert.equal(await introspect(tokens.access_token), false);
    const row = await family(grantId);
    assert.ok(row.ended_at);
    assert.equal(row.end_reason, 'reuse_detected:reuse_after_grace');
    assert.equal(reuseEvents.length, before + 1);
    const audit = (await reuseAuditEvents()).at(-1)!;
    assert.equal(audit.client_id, 'rp-a');
    assert.equal(audit.data.reason, 'reuse_after_grace');
    assert.equal(audit.data.presented_generation, 0);
    assert.equal(audit.data.family_generation, 1);
    assert.ok(audit.user_agent);
    offset = 0;
  });

  test('an older generation revokes the family', async () => {
    offset = 0;
    const { tokens } = await signIn('rp-a');
    const g1 = await refreshRaw('rp-a', tokens.refresh_token!);
    const g2 = await refreshRaw('rp-a', g1.body.refresh_token!);
    assert.equal(g2.status, 200);
    assert.equal((await refreshRaw('rp-a', tokens.refresh_token!)).status, 400);
    assert.equal((await refreshRaw('rp-a', g2.body.refresh_token!)).status, 400, 'family revoked');
  });

  test('another client presenting the token revokes the family', async () => {
    offset = 0;
    const { tokens } = await signIn('rp-a');
    const stolen = await refreshRaw('rp-b', tokens.refresh_token!);
    assert.equal(stolen.status, 400);
    assert.equal((await refreshRaw('rp-a', tokens.refresh_token!)).status, 400, 'the owner lost the family too');
    assert.equal((await reuseAuditEvents()).at(-1)!.data.reason, 'other_client');
  });

  test('after a family is revoked the user signs in again normally (no dead grant in the session)', async () => {
    offset = 0;
    const { config, tokens, jar } = await signIn('rp-a');
    await refreshRaw('rp-b', tokens.refresh_token!); // revoke
    const again = await codeFlowWithJar(config, jar);
    assert.ok(again.refresh_token);
    assert.equal((await refreshRaw('rp-a', again.refresh_token!)).status, 200);
  });

  async function codeFlowWithJar(config: client.Configuration, jar: CookieJar) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid offline_access',
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const step = await authorizeAs(url, jar, { origin: facet.baseUrl, sub: userId });
    assert.equal(step.response, undefined, `flow ended at ${step.url}`);
    return client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier });
  }

  test('a DPoP-bound family refuses another key and is revoked', async () => {
    offset = 0;
    const config = await discover(issuer, 'rp-public');
    const keyA = await client.randomDPoPKeyPair('ES256');
    const keyB = await client.randomDPoPKeyPair('ES256');
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid offline_access',
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const jar = new CookieJar();
    const step = await authorizeAs(url, jar, { origin: facet.baseUrl, sub: userId });
    const tokens = await client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier }, undefined, { DPoP: client.getDPoPHandle(config, keyA) });
    assert.equal(tokens.token_type, 'dpop');
    const ok = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: client.getDPoPHandle(config, keyA) });
    await assert.rejects(client.refreshTokenGrant(config, ok.refresh_token!, undefined, { DPoP: client.getDPoPHandle(config, keyB) }));
    await assert.rejects(client.refreshTokenGrant(config, ok.refresh_token!, undefined, { DPoP: client.getDPoPHandle(config, keyA) }), 'revoked for the right key too');
    assert.equal((await reuseAuditEvents()).at(-1)!.data.reason, 'other_dpop_key');
  });

  test('revoking any member (RFC 7009) ends the family', async () => {
    offset = 0;
    const { config, tokens } = await signIn('rp-a');
    const grantId = (await grantIdOf(tokens.refresh_token!))!;
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    await client.tokenRevocation(config, rotated.access_token);
    assert.equal((await refreshRaw('rp-a', rotated.refresh_token!)).status, 400);
    assert.ok((await family(grantId)).ended_at);
  });

  test('RP-initiated logout ends the family, offline_access notwithstanding', async () => {
    offset = 0;
    const { tokens, jar } = await signIn('rp-a');
    const grantId = (await grantIdOf(tokens.refresh_token!))!;
    const start = new URL(`${issuer}/session/end`);
    start.searchParams.set('id_token_hint', tokens.id_token!);
    start.searchParams.set('post_logout_redirect_uri', 'http://localhost:3001/');
    const confirmPage = await followRedirects(start, jar, { origin: facet.baseUrl });
    const html = await confirmPage.response!.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(xsrf, 'logout form with xsrf');
    const confirmUrl = new URL(`${issuer}/session/end/confirm`);
    const response = await fetch(confirmUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(confirmUrl), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    assert.equal(response.status, 303);
    assert.equal((await refreshRaw('rp-a', tokens.refresh_token!)).status, 400);
    const row = await family(grantId);
    assert.equal(row.end_reason, 'logout');
  });

  test("ending an account's families (sign out everywhere) kills its refresh tokens", async () => {
    offset = 0;
    const { tokens } = await signIn('rp-a');
    const ids = createRecordIdCodec(facet.config.tokenHashKey);
    const ended = await withTenant(facet.database.db, tenant, (trx) => endFamiliesForAccount(trx, userId, 'signed_out_everywhere', (g) => ids.hash('Grant', g)));
    assert.ok(ended >= 1);
    assert.equal((await refreshRaw('rp-a', tokens.refresh_token!)).status, 400);
  });

  test('soft-deleting the user ends the family and records why', async () => {
    offset = 0;
    const victim = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: `gone-${Date.now()}` }))).id;
    const config = await discover(issuer, 'rp-a', SECRETS['rp-a']);
    const { tokens } = await codeFlow(config, { origin: facet.baseUrl, sub: victim, redirectUri: REDIRECT, scope: 'openid offline_access' });
    const grantId = (await grantIdOf(tokens.refresh_token!))!;
    assert.equal(await withTenant(facet.database.db, tenant, (trx) => softDeleteAccount(trx, victim)), true);
    assert.equal((await refreshRaw('rp-a', tokens.refresh_token!)).status, 400);
    assert.equal((await family(grantId)).end_reason, 'user_deleted');
    const audit = await withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('audit_events').select(['type', 'subject']).where('type', '=', 'account.deleted').execute());
    assert.deepEqual(audit, [{ type: 'account.deleted', subject: victim }]);
  });

  test('idle timeout and absolute lifetime end a family', async () => {
    offset = 0;
    const { tokens } = await signIn('rp-a');
    offset = 3_601_000;
    assert.equal((await refreshRaw('rp-a', tokens.refresh_token!)).status, 400, 'idle for more than an hour');
    offset = 0;
    const second = await signIn('rp-a');
    let current = second.tokens.refresh_token!;
    for (const hours of [0.9, 1.8, 2.7]) {
      offset = hours * 3_600_000;
      const next = await refreshRaw('rp-a', current);
      assert.equal(next.status, 200, 'active use keeps the family alive');
      current = next.body.refresh_token!;
    }
    offset = 86_401_000;
    assert.equal((await refreshRaw('rp-a', current)).status, 400, 'past the absolute lifetime');
    offset = 0;
  });

  test('the database holds no usable refresh token', async () => {
    offset = 0;
    const { config, tokens } = await signIn('rp-a');
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const dump = await withTenant(facet.database.db, tenant, async (trx) => {
      const tables = ['oidc_records', 'refresh_families', 'audit_events'];
      const parts: string[] = [];
      for (const table of tables) parts.push(((await sql<{ t: string }>`select coalesce(string_agg(x::text, ' '), '') as t from ${sql.table(table)} x`.execute(trx)).rows[0]!.t));
      return parts.join(' ');
    });
    for (const raw of [tokens.refresh_token!, rotated.refresh_token!]) assert.ok(!dump.includes(raw), 'raw refresh token absent');
  });

  for (const [clientId, graceLabel] of [['rp-a', '10 s'], ['rp-strict', '0 s']] as const) {
    test(`50 simultaneous refreshes with one token (grace ${graceLabel}) never leave two live branches`, async () => {
      offset = 0;
      const { tokens } = await signIn(clientId);
      const grantId = (await grantIdOf(tokens.refresh_token!))!;
      const results = await Promise.all(Array.from({ length: 50 }, () => refreshRaw(clientId, tokens.refresh_token!)));
      const ok = results.filter((r) => r.status === 200);
      const row = await family(grantId);
      if (clientId === 'rp-strict') {
        assert.equal(ok.length, 1, 'without a grace window exactly one refresh succeeds');
        assert.ok(row.ended_at, 'and the concurrent reuse revoked the family');
        assert.equal(await liveRefreshTokens(grantId), 0);
      } else {
        assert.ok(ok.length >= 1);
        assert.equal(row.ended_at, null, 'retries inside the window are not theft');
        assert.equal(await liveRefreshTokens(grantId), 1, 'exactly one live refresh token');
        const live = ok.filter((r) => r !== undefined);
        const working = [];
        for (const r of live) if ((await refreshRawPeek(r.body.refresh_token!)) === 'live') working.push(r);
        assert.equal(working.length, 1, 'exactly one of the issued tokens is live');
      }
    });
  }

  async function refreshRawPeek(token: string) {
    const config = await discover(issuer, 'rp-a', SECRETS['rp-a']);
    return (await client.tokenIntrospection(config, token)).active ? 'live' : 'dead';
  }
});
