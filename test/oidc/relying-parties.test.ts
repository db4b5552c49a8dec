// Issue 14, over HTTP against a real Facet: what relying parties and resource servers written by
// others need. openid-client is the RP here; test/oidc/oauth4webapi.test.ts is the second library.
// 1. a client with one `resources:` entry gets userinfo-usable code-flow tokens (RFC 8707);
// 2. JWT access tokens introspect (RFC 7662) and become inactive after revocation, logout, family
//    revocation and account deletion;
// 3. first-party clients get offline_access without prompt=consent, third-party ones do not;
// 5. only the token's own client or a resource server it is addressed to may introspect;
// 6. discovery for PAR / request objects, and the RFC 8414 metadata path.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { authorizeAs, finishInteractions } from '../support/code-flow.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { signOutEverywhere, softDeleteAccount } from '../../src/accounts/lifecycle.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';

const API = 'https://api.rp.example/';
const CALLBACK = 'http://localhost:3001/callback';
const SECRETS: Record<string, string> = {
  'rp-web': 'rp-web-dev-secret-000000',
  'rp-partner': 'rp-partner-dev-secret-00',
  'orders-api': 'orders-api-dev-secret-000',
  'batch-job': 'batch-job-dev-secret-0000',
};

describe('relying parties and resource servers (issue 14)', () => {
  let facet: TestFacet;
  let issuer: string;
  let tenant: TenantRecord;
  const configs = new Map<string, client.Configuration>();
  const rp = async (id: string) => {
    if (!configs.has(id)) configs.set(id, await discover(issuer, id, SECRETS[id]));
    return configs.get(id)!;
  };
  const newUser = async (name: string) =>
    (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}` }))).id;

  /** A code flow as a plain RP sends it: no prompt unless asked for. */
  async function signIn(clientId: string, sub: string, { scope = 'openid offline_access', extra = {} as Record<string, string>, jar = new CookieJar() } = {}) {
    const config = await rp(clientId);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    const step = await authorizeAs(url, jar, { origin: facet.baseUrl, sub });
    if (step.response) throw new Error(`flow stopped at ${step.url} with ${step.response.status}: ${await step.response.text()}`);
    const tokens = await client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier, idTokenExpected: scope.includes('openid') });
    return { tokens, jar };
  }

  async function introspect(as: string, token: string) {
    const response = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${as}:${SECRETS[as]}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    assert.equal(response.status, 200, `introspection answers 200 (${as})`);
    return (await response.json()) as Record<string, unknown>;
  }

  async function apiToken(sub: string) {
    const { tokens, jar } = await signIn('rp-web', sub, { scope: `openid offline_access orders:read`, extra: { resource: API } });
    const api = await client.refreshTokenGrant(await rp('rp-web'), tokens.refresh_token!, { resource: API });
    return { tokens, api, jar };
  }

  before(async () => {
    facet = await startTestFacet();
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/rp.yaml')), { kek: facet.config.kek, production: false });
    issuer = `${facet.baseUrl}/t/rp`;
    tenant = (await findTenant(facet.database.db, 'rp'))!;
  });
  after(async () => facet?.close());

  test('1. a code-flow access token without resource= is for userinfo, even for a client with one resource', async () => {
    const sub = await newUser('ui');
    const { tokens } = await signIn('rp-web', sub, { scope: 'openid profile' });
    assert.ok(!tokens.access_token.includes('.'), 'an opaque userinfo token, not a JWT for the API');
    const info = await client.fetchUserInfo(await rp('rp-web'), tokens.access_token, sub);
    assert.equal(info.sub, sub);
  });

  test('1. resource= still gets an API token (authorization + refresh request), userinfo keeps working; client_credentials keeps its default', async () => {
    const sub = await newUser('api');
    const { tokens, api } = await apiToken(sub);
    // The code exchange without resource= gives the userinfo token …
    assert.equal((await client.fetchUserInfo(await rp('rp-web'), tokens.access_token, sub)).sub, sub);
    // … and the refresh request with resource= a JWT for the API, with only the API's scope.
    const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
    const { payload } = await jwtVerify(api.access_token, jwks, { issuer, audience: API });
    assert.equal(payload.scope, 'orders:read');
    assert.equal(payload.sub, sub);
    assert.ok(typeof payload.acr === 'string' && payload.acr.length > 0, 'the access token carries acr');
    assert.equal(payload.exp! - payload.iat!, 600, 'JWT access tokens live 600 s by default');

    const batch = await client.clientCredentialsGrant(await rp('batch-job'), {});
    assert.equal(decodeJwt(batch.access_token).aud, API, 'client_credentials defaults to the one resource');
  });

  test('2. a JWT access token introspects (RFC 7662) for its resource server, and revocation (RFC 7009) makes it inactive', async () => {
    const sub = await newUser('intro');
    const { api } = await apiToken(sub);
    const active = await introspect('orders-api', api.access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, 'rp-web');
    assert.equal(active.sub, sub);
    assert.equal(active.scope, 'orders:read');
    assert.equal(active.aud, API);
    assert.equal(typeof active.exp, 'number');
    assert.ok(typeof active.acr === 'string', 'acr reported');
    assert.equal(active.token_type, 'Bearer');

    // Only the client it was issued to may revoke it; a stranger's revocation changes nothing.
    await client.tokenRevocation(await rp('batch-job'), api.access_token);
    assert.equal((await introspect('orders-api', api.access_token)).active, true);
    await client.tokenRevocation(await rp('rp-web'), api.access_token, { token_type_hint: 'access_token' });
    assert.equal((await introspect('orders-api', api.access_token)).active, false);

    // client_credentials JWTs too.
    const batch = await client.clientCredentialsGrant(await rp('batch-job'), {});
    assert.equal((await introspect('orders-api', batch.access_token)).active, true);
    await client.tokenRevocation(await rp('batch-job'), batch.access_token);
    assert.equal((await introspect('orders-api', batch.access_token)).active, false);
  });

  test('2. RP-initiated logout makes the JWT access tokens of the session inactive', async () => {
    const sub = await newUser('logout');
    const { tokens, api, jar } = await apiToken(sub);
    assert.equal((await introspect('orders-api', api.access_token)).active, true);
    const start = new URL(`${issuer}/session/end`);
    start.searchParams.set('id_token_hint', tokens.id_token!);
    const confirmPage = await followRedirects(start, jar, { origin: facet.baseUrl });
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await confirmPage.response!.text())?.[1];
    assert.ok(xsrf);
    const confirmUrl = new URL(`${issuer}/session/end/confirm`);
    const response = await fetch(confirmUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(confirmUrl), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    assert.ok(response.status >= 200 && response.status < 400);
    assert.equal((await introspect('orders-api', api.access_token)).active, false);
  });

  test('2. refresh-token reuse (family revocation), sign out everywhere and account deletion make JWT access tokens inactive', async () => {
    // Reuse of an older generation revokes the family.
    const reused = await newUser('reuse');
    const first = await apiToken(reused);
    const rotated = await client.refreshTokenGrant(await rp('rp-web'), first.api.refresh_token!);
    assert.ok(rotated.refresh_token);
    await assert.rejects(client.refreshTokenGrant(await rp('rp-web'), first.tokens.refresh_token!));
    assert.equal((await introspect('orders-api', first.api.access_token)).active, false, 'family revoked');

    const everywhere = await newUser('everywhere');
    const second = await apiToken(everywhere);
    await withTenant(facet.database.db, tenant, (trx) => signOutEverywhere(trx, everywhere));
    assert.equal((await introspect('orders-api', second.api.access_token)).active, false, 'signed out everywhere');

    const deleted = await newUser('deleted');
    const third = await apiToken(deleted);
    assert.equal((await introspect('orders-api', third.api.access_token)).active, true);
    await withTenant(facet.database.db, tenant, (trx) => softDeleteAccount(trx, deleted));
    assert.equal((await introspect('orders-api', third.api.access_token)).active, false, 'account deleted');
  });

  test('3. a first-party client gets offline_access without prompt=consent; a third-party client only with it', async () => {
    const sub = await newUser('offline');
    const first = await signIn('rp-web', sub);
    assert.ok(first.tokens.refresh_token, 'first party: refresh token without prompt=consent');
    assert.match(first.tokens.scope ?? '', /offline_access/);

    const partner = await signIn('rp-partner', sub);
    assert.equal(partner.tokens.refresh_token, undefined, 'third party: offline_access ignored without prompt=consent (OIDC Core 11)');
    const consented = await signIn('rp-partner', sub, { extra: { prompt: 'consent' } });
    assert.ok(consented.tokens.refresh_token, 'third party with prompt=consent and consent given');

    // A first-party client that does not ask for offline_access gets no refresh token.
    const online = await signIn('rp-web', sub, { scope: 'openid' });
    assert.equal(online.tokens.refresh_token, undefined);
  });

  test('5. only the token’s own client, or a resource server it is addressed to, may introspect it', async () => {
    const sub = await newUser('who');
    const { tokens, api } = await apiToken(sub);
    assert.ok(api.refresh_token, 'the live refresh token (the first one was spent by the refresh)');
    // Another confidential client (a client_credentials back end) learns nothing.
    assert.deepEqual(await introspect('batch-job', api.refresh_token!), { active: false });
    assert.deepEqual(await introspect('batch-job', api.access_token), { active: false });
    assert.deepEqual(await introspect('batch-job', tokens.access_token), { active: false });
    // The resource server: the API's tokens yes; refresh tokens and userinfo tokens of others, no.
    assert.equal((await introspect('orders-api', api.access_token)).active, true);
    assert.deepEqual(await introspect('orders-api', api.refresh_token!), { active: false });
    assert.deepEqual(await introspect('orders-api', tokens.access_token), { active: false });
    // The client itself: its own refresh and access tokens.
    const own = await introspect('rp-web', api.refresh_token!);
    assert.equal(own.active, true);
    assert.equal(own.sub, sub);
    assert.equal((await introspect('rp-web', tokens.access_token)).active, true);
    assert.equal((await introspect('rp-web', api.access_token)).active, true);
  });

  test('6. discovery: PAR and request objects, and the RFC 8414 metadata path at the origin', async () => {
    const oidc = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(oidc.pushed_authorization_request_endpoint, `${issuer}/request`);
    assert.equal(oidc.request_parameter_supported, true);
    // RFC 9126 §5: a PAR request_uri is accepted regardless of request_uri_parameter_supported,
    // which (OIDC Discovery) is about fetching request objects from the RP's own URLs: not offered.
    assert.equal(oidc.request_uri_parameter_supported, false);

    for (const url of [`${facet.baseUrl}/.well-known/oauth-authorization-server/t/rp`, `${issuer}/.well-known/oauth-authorization-server`]) {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      const metadata = (await response.json()) as Record<string, unknown>;
      assert.equal(metadata.issuer, issuer, 'RFC 8414 §3.3: issuer identical to the one the path was built from');
      assert.equal(metadata.token_endpoint, oidc.token_endpoint);
    }
    assert.equal((await fetch(`${facet.baseUrl}/.well-known/oauth-authorization-server/t/nobody`)).status, 404);

    // The PAR request_uri works at the authorization endpoint (first party, offline_access kept).
    const sub = await newUser('par');
    const config = await rp('rp-web');
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: CALLBACK,
      scope: 'openid offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    assert.ok(url.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'));
    const jar = new CookieJar();
    const step = await finishInteractions(await followRedirects(url, jar, { origin: facet.baseUrl }), jar, { origin: facet.baseUrl, sub });
    assert.equal(step.response, undefined);
    const tokens = await client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier });
    assert.equal(tokens.claims()!.sub, sub);
    assert.ok(tokens.refresh_token, 'offline_access kept through PAR for a first-party client');
  });
});
