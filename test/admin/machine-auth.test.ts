// Machines on the admin API (issue 12): client_credentials with admin scopes on the built-in admin
// resource <issuer>/admin/api; JWT access tokens checked for tenant, audience, scope and expiry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT, importJWK, type JWK } from 'jose';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { adminAccessToken } from '../support/admin-client.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { parseTenantFile } from '../../src/tenancy/tenant-file.ts';
import { loadSigningJwks } from '../../src/keys/signing-keys.ts';
import { staticAdminTokenLeftovers } from '../../src/admin/legacy-admin-token.ts';

const OTHER = `
slug: other
name: Other Org
clients:
  - client_id: other-bot
    grant_types: [client_credentials]
    secret: { env: OTHER_BOT_SECRET, dev: other-bot-dev-secret-000 }
    admin_scopes: [admin:read]
`;

interface Problem {
  type?: string;
  code: string;
  detail: string;
  reason?: string;
  scope?: string;
}

describe('admin API: machine clients', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let userId: string;
  let issuer: string;

  before(async () => {
    facet = await startTestFacet({ database: 'postgres' });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    issuer = `${facet.baseUrl}/t/demo`;
    userId = (await withTenant(facet.database.db, demo, (trx) => createUser(trx, { username: 'machine-target' }))).id;
    await applyTenantFile(facet.database.db, parseTenantFile(OTHER), { kek: facet.config.kek, production: false });
  });
  after(async () => facet?.close());

  const call = (path: string, token: string | null, init: RequestInit = {}, slug = 'demo') =>
    fetch(`${facet.baseUrl}/t/${slug}/admin/api${path}`, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
    });
  const problemOf = async (response: Response) => {
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    return (await response.json()) as Problem;
  };

  test('a token with admin:read lists users and is refused a write (403 insufficient_scope)', async () => {
    const token = await adminAccessToken(facet.baseUrl, { scope: 'admin:read' });
    const listed = await call('/users?q=machine-target', token);
    assert.equal(listed.status, 200);
    const body = (await listed.json()) as { users: Array<{ id: string }> };
    assert.ok(body.users.some((u) => u.id === userId), JSON.stringify(body));

    // Who am I: a machine, no console role, its client and scopes.
    const me = (await (await call('/me', token)).json()) as { kind: string; roles: string[]; client?: { clientId: string; scopes: string[] } };
    assert.deepEqual([me.kind, me.roles, me.client], ['token', [], { clientId: 'demo-admin', scopes: ['admin:read'] }]);

    const write = await call(`/users/${userId}/lock`, token, { method: 'POST', body: '{}' });
    assert.equal(write.status, 403);
    assert.match(write.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="admin:write"/);
    const problem = await problemOf(write);
    assert.equal(problem.code, 'insufficient_scope');
    assert.equal(problem.scope, 'admin:write');
    // Nothing changed.
    const user = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('users').select('status').where('id', '=', userId).executeTakeFirstOrThrow());
    assert.equal(user.status, 'active');
  });

  test('admin:write may write (audited as the client); audit routes need audit:read', async () => {
    const writer = await adminAccessToken(facet.baseUrl, { scope: 'admin:write' });
    const locked = await call(`/users/${userId}/lock`, writer, { method: 'POST', body: '{}' });
    assert.equal(locked.status, 200, await locked.clone().text());
    assert.equal((await call(`/users/${userId}/unlock-account`, writer, { method: 'POST', body: '{}' })).status, 200);
    const actors = await withTenant(facet.database.db, demo, (trx) =>
      trx.selectFrom('audit_events').select('actor').where('subject', '=', userId).where('type', 'like', 'account.%').execute(),
    );
    assert.ok(actors.length >= 2 && actors.every((a) => a.actor === 'client:demo-admin'), JSON.stringify(actors));
    // A write-only token may not read.
    assert.equal((await call('/users', writer)).status, 403);

    const reader = await adminAccessToken(facet.baseUrl, { scope: 'admin:read' });
    const refused = await call('/audit/events?limit=1', reader);
    assert.equal(refused.status, 403);
    assert.equal((await problemOf(refused)).scope, 'audit:read');
    const auditor = await adminAccessToken(facet.baseUrl, { scope: 'audit:read' });
    assert.equal((await call('/audit/events?limit=1', auditor)).status, 200);
    assert.equal((await call('/users', auditor)).status, 403);
  });

  test('a token of tenant A is refused at tenant B, and B’s own token works there', async () => {
    const demoToken = await adminAccessToken(facet.baseUrl, { scope: 'admin:read' });
    const refused = await call('/users', demoToken, {}, 'other');
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const problem = await problemOf(refused);
    assert.equal(problem.code, 'invalid_token');
    assert.equal(problem.reason, 'signature');

    const otherToken = await adminAccessToken(facet.baseUrl, { slug: 'other', clientId: 'other-bot', secret: 'other-bot-dev-secret-000', scope: 'admin:read' });
    assert.equal((await call('/users', otherToken, {}, 'other')).status, 200);
    assert.equal((await call('/users', otherToken)).status, 401, "B's token at A");
  });

  test('an expired token, a token for another audience, a forged issuer and no token are refused', async () => {
    // Signed with the tenant's own current key, so only the claim under test is wrong.
    const [jwk] = (await withTenant(facet.database.db, demo, (trx) => loadSigningJwks(trx, { kek: facet.config.kek, slug: 'demo' }))).filter((k) => k.kty === 'EC') as JWK[];
    const key = await importJWK(jwk!, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const mint = (claims: Record<string, unknown>, { iss = issuer, aud = `${issuer}/admin/api`, exp = now + 300 } = {}) =>
      new SignJWT({ client_id: 'demo-admin', scope: 'admin:read', jti: crypto.randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: jwk!.kid!, typ: 'at+jwt' })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject('demo-admin')
        .setIssuedAt(now - 700)
        .setExpirationTime(exp)
        .sign(key);

    // The control: a well-formed token of this shape is accepted (so the refusals below are about one claim each).
    assert.equal((await call('/users', await mint({}))).status, 200);

    const cases: Array<[string, string, string]> = [
      ['expired', await mint({}, { exp: now - 5 }), 'expired'],
      ['another audience', await mint({}, { aud: 'https://api.demo.example/' }), 'audience'],
      ['another issuer', await mint({}, { iss: `${facet.baseUrl}/t/other` }), 'issuer'],
      ['a client without admin scopes', await mint({ client_id: 'demo-service' }), 'client'],
      ['a client the tenant never gave admin scopes', await mint({ client_id: 'demo-web' }), 'client'],
      ['a DPoP-bound token presented as a bearer token', await mint({ cnf: { jkt: 'x'.repeat(43) } }), 'sender_constrained'],
      ['an ID token type', await new SignJWT({ client_id: 'demo-admin', scope: 'admin:read', jti: 'x' }).setProtectedHeader({ alg: 'ES256', kid: jwk!.kid!, typ: 'JWT' }).setIssuer(issuer).setAudience(`${issuer}/admin/api`).setIssuedAt(now).setExpirationTime(now + 300).sign(key), 'type'],
      ['not a JWT', 'demo-admin-dev-token-000000', 'malformed'],
    ];
    for (const [what, token, reason] of cases) {
      const response = await call('/users', token);
      assert.equal(response.status, 401, what);
      const problem = await problemOf(response);
      assert.equal(problem.code, 'invalid_token', what);
      assert.equal(problem.reason, reason, what);
    }

    // A real access token for the demo API resource (issued by the token endpoint) is not an admin token.
    const service = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.demo.example/', scope: 'orders:read' }),
    });
    const { access_token: apiToken } = (await service.json()) as { access_token: string };
    const wrongAudience = await call('/users', apiToken);
    assert.equal(wrongAudience.status, 401);
    assert.equal((await problemOf(wrongAudience)).reason, 'audience');

    const none = await call('/users', null);
    assert.equal(none.status, 401);
    assert.equal((await problemOf(none)).code, 'unauthorized');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="facet-admin"/);
  });

  test('only a client holding admin scopes gets a token for the admin resource, and only those scopes', async () => {
    const asService = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${issuer}/admin/api`, scope: 'admin:read' }),
    });
    assert.equal(asService.status, 400);
    assert.equal(((await asService.json()) as { error: string }).error, 'invalid_target');

    // other-bot holds admin:read only: asking for more yields admin:read.
    const other = await fetch(`${facet.baseUrl}/t/other/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('other-bot:other-bot-dev-secret-000').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${facet.baseUrl}/t/other/admin/api`, scope: 'admin:read admin:write audit:read' }),
    });
    const granted = (await other.json()) as { scope?: string; token_type: string; expires_in: number };
    assert.equal(other.status, 200, JSON.stringify(granted));
    assert.equal(granted.scope, 'admin:read');
    assert.ok(granted.expires_in <= 600);
  });

  test('a revoked token is refused', async () => {
    const token = await adminAccessToken(facet.baseUrl, { scope: 'admin:read' });
    assert.equal((await call('/users', token)).status, 200);
    const revoked = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-admin:demo-admin-dev-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    assert.equal(revoked.status, 200);
    const refused = await call('/users', token);
    assert.equal(refused.status, 401);
    assert.equal((await problemOf(refused)).reason, 'revoked');
  });

  test('a tenant file that still sets the static admin token is refused with what to use instead', () => {
    assert.throws(
      () => parseTenantFile('slug: old\nname: Old\nsettings:\n  admin_token: { env: OLD_ADMIN_TOKEN }\n', 'tenants/old.yaml'),
      (error: Error) => /tenants\/old\.yaml: settings\.admin_token is no longer supported/.test(error.message) && /admin_scopes/.test(error.message) && /client_credentials/.test(error.message),
    );
  });

  test('at boot, a stored admin_token or an *_ADMIN_TOKEN variable is named with what to use instead (never its value)', () => {
    const messages = staticAdminTokenLeftovers(
      [
        { slug: 'old', settings: { admin_token: { env: 'OLD_ADMIN_TOKEN' } } },
        { slug: 'demo', settings: { signup: 'open' } },
      ],
      { OLD_ADMIN_TOKEN: 'secret-value-never-logged', PATH: '/bin', EMPTY_ADMIN_TOKEN: '' },
    );
    assert.equal(messages.length, 2, messages.join('\n'));
    assert.match(messages[0]!, /^tenant old: .*admin_token.*admin_scopes/);
    assert.match(messages[1]!, /^OLD_ADMIN_TOKEN is set, .*client_credentials/);
    assert.ok(!messages.join().includes('secret-value-never-logged'));
    assert.deepEqual(staticAdminTokenLeftovers([{ slug: 'demo', settings: {} }], { PATH: '/bin' }), []);
  });
});
