// openid-client (v6) as a real relying party against two tenants of one Facet.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { sql } from 'kysely';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { codeFlow } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant, bumpConfigVersion } from '../../src/tenancy/registry.ts';
import { rotateKeys } from '../../src/keys/signing-keys.ts';

const API = 'https://api.demo.example/';

describe('OIDC interop with openid-client', () => {
  let facet: TestFacet;
  let demoIssuer: string;
  let acmeIssuer: string;
  let aliceId: string;

  before(async () => {
    facet = await startTestFacet();
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/acme.yaml')), {
      kek: facet.config.kek,
      production: false,
    });
    demoIssuer = `${facet.baseUrl}/t/demo`;
    acmeIssuer = `${facet.baseUrl}/t/acme`;
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    aliceId = (await withTenant(facet.database.db, demo, (trx) => createUser(trx, { username: 'alice', email: 'alice@demo.example', displayName: 'Alice' }))).id;
  });
  after(async () => facet?.close());

  test('discovery names the tenant issuer and its endpoints', async () => {
    const config = await discover(demoIssuer, 'demo-service', 'demo-service-dev-secret');
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, demoIssuer);
    for (const endpoint of [meta.token_endpoint, meta.jwks_uri, meta.introspection_endpoint, meta.revocation_endpoint, meta.userinfo_endpoint]) {
      assert.ok(endpoint?.startsWith(`${demoIssuer}/`), `${endpoint} is under the issuer`);
    }
    assert.ok(meta.id_token_signing_alg_values_supported?.includes('ES256'));
    assert.ok(meta.id_token_signing_alg_values_supported?.includes('RS256'));
    const jwks = (await (await fetch(meta.jwks_uri!)).json()) as { keys: Array<{ alg: string; d?: string }> };
    assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private parts are published');
  });

  test('client_credentials issues a JWT access token for the resource server', async () => {
    const config = await discover(demoIssuer, 'demo-service', 'demo-service-dev-secret');
    const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read', resource: API });
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: demoIssuer, audience: API });
    assert.equal(payload.client_id, 'demo-service');
    assert.equal(payload.scope, 'orders:read');
  });

  test('a wrong client secret is invalid_client', async () => {
    const response = await fetch(`${demoIssuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-service:not-the-secret-at-all').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }),
    });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });

  test('opaque tokens introspect as active, then inactive after revocation', async () => {
    const config = await discover(acmeIssuer, 'acme-service', 'acme-service-dev-secret-000');
    const tokens = await client.clientCredentialsGrant(config, {});
    assert.ok(!tokens.access_token.includes('.'), 'opaque token');
    const active = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, 'acme-service');
    await client.tokenRevocation(config, tokens.access_token);
    const revoked = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(revoked.active, false);
  });

  test('a token from one tenant is worthless at another', async () => {
    const acme = await discover(acmeIssuer, 'acme-service', 'acme-service-dev-secret-000');
    const acmeToken = (await client.clientCredentialsGrant(acme, {})).access_token;
    const demo = await discover(demoIssuer, 'demo-service', 'demo-service-dev-secret');
    assert.equal((await client.tokenIntrospection(demo, acmeToken)).active, false);
    assert.equal((await client.tokenIntrospection(acme, acmeToken)).active, true);

    // A user's access token from demo is refused by acme's userinfo.
    const web = await discover(demoIssuer, 'demo-web', 'demo-web-dev-secret');
    const { tokens } = await codeFlow(web, { origin: facet.baseUrl, sub: aliceId, redirectUri: 'http://localhost:3001/callback', scope: 'openid profile' });
    const demoInfo = await client.fetchUserInfo(web, tokens.access_token, aliceId);
    assert.equal(demoInfo.preferred_username, 'alice');
    const response = await fetch(`${acmeIssuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  test('code + PKCE flow gives an ID token for the user and a refresh token', async () => {
    const web = await discover(demoIssuer, 'demo-web', 'demo-web-dev-secret');
    const { tokens } = await codeFlow(web, { origin: facet.baseUrl, sub: aliceId, redirectUri: 'http://localhost:3001/callback' });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, aliceId);
    assert.equal(claims.iss, demoIssuer);
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    const refreshed = await client.refreshTokenGrant(web, tokens.refresh_token!);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');

    // No token or code exists in clear in the database: ids are stored only as keyed hashes.
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    const dump = await withTenant(facet.database.db, demo, (trx) => sql<{ t: string }>`select string_agg(t::text, ' ') as t from oidc_records t`.execute(trx));
    const text = dump.rows[0]!.t;
    for (const secret of [tokens.access_token, tokens.refresh_token!, refreshed.access_token, refreshed.refresh_token!]) {
      assert.ok(!text.includes(secret), 'raw token not in the database');
    }
  });

  test('tokens signed before a key rotation still verify during the overlap', async () => {
    const config = await discover(demoIssuer, 'demo-service', 'demo-service-dev-secret');
    const before = await client.clientCredentialsGrant(config, { scope: 'orders:read', resource: API });
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    await withTenant(facet.database.db, demo, (trx) => rotateKeys(trx, { kek: facet.config.kek, slug: 'demo', overlapSeconds: 3600 }));
    await bumpConfigVersion(facet.database.db, 'demo');
    facet.facet.pool.invalidate('demo');

    const after = await client.clientCredentialsGrant(config, { scope: 'orders:read', resource: API });
    const newKid = decodeProtectedHeader(after.access_token).kid;
    assert.notEqual(newKid, oldKid, 'new tokens use the new key');
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    await jwtVerify(before.access_token, jwks, { issuer: demoIssuer, audience: API });
    await jwtVerify(after.access_token, jwks, { issuer: demoIssuer, audience: API });
  });

  test('an unknown tenant answers a clear 404', async () => {
    const response = await fetch(`${facet.baseUrl}/t/nobody/.well-known/openid-configuration`);
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    const body = (await response.json()) as { detail: string };
    assert.match(body.detail, /no active tenant called nobody/);
  });
});
