// Our own run through the OpenID conformance suite's basic and config plans
// (../shared/vectors/oidf lists the modules; each test names the module it mirrors).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { authorizeAs } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant } from '../../src/tenancy/registry.ts';

const CB = 'https://rp.example/cb';
const SECRET = 'rp-basic-dev-secret-000000';

describe('OpenID conformance checklist (basic + config plans)', () => {
  let facet: TestFacet;
  let issuer: string;
  let rp: client.Configuration;
  let sub: string;

  before(async () => {
    facet = await startTestFacet();
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/conformance.yaml')), { kek: facet.config.kek, production: false });
    issuer = `${facet.baseUrl}/t/conformance`;
    rp = await discover(issuer, 'rp-basic', SECRET);
    const tenant = (await findTenant(facet.database.db, 'conformance'))!;
    sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'buffy', email: 'buffy@example.org', displayName: 'Buffy' }))).id;
  });
  after(async () => facet?.close());

  /** Authorization request → interactions finished by the test helper → the callback URL. */
  async function authorize(params: Record<string, string>, { jar = new CookieJar() }: { jar?: CookieJar } = {}) {
    const url = new URL(`${issuer}/auth`);
    const all = { client_id: 'rp-basic', response_type: 'code', redirect_uri: CB, scope: 'openid', ...params };
    for (const [k, v] of Object.entries(all)) if (v !== '') url.searchParams.set(k, v);
    return { ...(await authorizeAs(url, jar, { origin: facet.baseUrl, sub })), jar };
  }

  async function codeAndTokens(params: Record<string, string> = {}, jar?: CookieJar) {
    const state = client.randomState();
    const { url, jar: j } = await authorize({ state, ...params }, jar ? { jar } : {});
    assert.equal(url.origin, 'https://rp.example', `redirected to the RP, got ${url}`);
    const tokens = await client.authorizationCodeGrant(rp, url, { expectedState: state, ...(params.nonce ? { expectedNonce: params.nonce } : {}) });
    return { tokens, jar: j, url };
  }

  test('oidcc-server: code flow happy path, ID token signed RS256 by default (oidcc-idtoken-signature)', async () => {
    const { tokens } = await codeAndTokens({ nonce: 'n-0S6_WzA2Mj' });
    assert.equal(tokens.claims()!.sub, sub);
    assert.equal(tokens.claims()!.nonce, 'n-0S6_WzA2Mj');
    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
  });

  test('oidcc-response-type-missing: an error is returned to the RP', async () => {
    const { url } = await authorize({ response_type: '' });
    assert.equal(url.origin, 'https://rp.example');
    assert.equal(url.searchParams.get('error'), 'invalid_request');
  });

  test('oidcc-idtoken-unsigned: alg none is not offered', () => {
    assert.ok(!rp.serverMetadata().id_token_signing_alg_values_supported?.includes('none'));
  });

  test('oidcc-userinfo-get / -post-header / -post-body', async () => {
    const { tokens } = await codeAndTokens({ scope: 'openid profile email' });
    const userinfo = `${issuer}/me`;
    const get = await fetch(userinfo, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(((await get.json()) as { sub: string }).sub, sub);
    const postHeader = await fetch(userinfo, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(((await postHeader.json()) as { sub: string }).sub, sub);
    const postBody = await fetch(userinfo, { method: 'POST', body: new URLSearchParams({ access_token: tokens.access_token }) });
    const body = (await postBody.json()) as Record<string, string>;
    assert.equal(body.sub, sub);
    assert.equal(body.preferred_username, 'buffy'); // oidcc-scope-profile
    assert.equal(body.email, 'buffy@example.org'); // oidcc-scope-email
  });

  test('oidcc-ensure-request-without-nonce-succeeds-for-code-flow and with an unknown parameter', async () => {
    const { tokens } = await codeAndTokens({ extra: 'foobar' });
    assert.equal(tokens.claims()!.nonce, undefined);
  });

  test('oidcc-alternate-happy-flow / display / ui_locales / claims_locales / login_hint are accepted', async () => {
    await codeAndTokens({ scope: 'email openid', display: 'popup', ui_locales: 'se', claims_locales: 'se', login_hint: 'buffy' });
  });

  test('oidcc-prompt-none-not-logged-in: login_required', async () => {
    const { url } = await authorize({ prompt: 'none', state: 'xyz' });
    assert.equal(url.searchParams.get('error'), 'login_required');
    assert.equal(url.searchParams.get('state'), 'xyz');
  });

  test('oidcc-prompt-none-logged-in, oidcc-id-token-hint, oidcc-prompt-login, oidcc-max-age-1', async () => {
    const first = await codeAndTokens();
    const silent = await authorize({ prompt: 'none', id_token_hint: first.tokens.id_token! }, { jar: first.jar });
    assert.ok(silent.url.searchParams.get('code'), 'a code without interaction');
    const forced = new URL(`${issuer}/auth?client_id=rp-basic&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(CB)}&prompt=login`);
    const step = await followRedirects(forced, first.jar, { origin: facet.baseUrl });
    assert.match(step.url.pathname, /\/interaction\//, 'prompt=login asks again');
    await new Promise((r) => setTimeout(r, 2100)); // auth_time has whole seconds
    const aged = new URL(`${issuer}/auth?client_id=rp-basic&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(CB)}&max_age=1`);
    assert.match((await followRedirects(aged, first.jar, { origin: facet.baseUrl })).url.pathname, /\/interaction\//, 'max_age=1 asks again');
    const again = await codeAndTokens({ max_age: '10000' }, first.jar);
    assert.ok(again.tokens.claims()!.auth_time, 'auth_time present with max_age');
  });

  test('oidcc-ensure-request-with-acr-values-succeeds', async () => {
    const supported = rp.serverMetadata().acr_values_supported as string[];
    assert.ok(supported.includes('urn:facet:acr:passkey'));
    await codeAndTokens({ acr_values: 'urn:facet:acr:passkey' });
  });

  test('oidcc-codereuse: a second use fails and revokes what the first produced', async () => {
    const state = client.randomState();
    const { url } = await authorize({ state });
    const tokens = await client.authorizationCodeGrant(rp, url, { expectedState: state });
    const reuse = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`rp-basic:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: url.searchParams.get('code')!, redirect_uri: CB }),
    });
    assert.equal(reuse.status, 400);
    assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
    const me = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(me.status, 401, 'the first access token was revoked');
  });

  test('oidcc-ensure-registered-redirect-uri: an error page, never a redirect', async () => {
    const response = await fetch(`${issuer}/auth?client_id=rp-basic&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    assert.match(await response.text(), /redirect_uri/);
  });

  test('oidcc-ensure-post-request-succeeds: deliberately not supported; PAR is the POST path', async () => {
    // Accepting POST at /auth would need SameSite=None session cookies; we keep them Lax.
    const post = await fetch(`${issuer}/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'rp-basic', response_type: 'code', scope: 'openid', redirect_uri: CB }) });
    assert.equal(post.status, 405);
    assert.match(((await post.json()) as { detail: string }).detail, /pushed authorization requests/);
    const par = await client.buildAuthorizationUrlWithPAR(rp, { redirect_uri: CB, scope: 'openid', state: 'par-state' });
    const jar = new CookieJar();
    const step = await authorizeAs(par, jar, { origin: facet.baseUrl, sub });
    assert.ok(step.url.searchParams.get('code'), step.url.href);
  });

  test('oidcc-server-client-secret-post', async () => {
    const post = await client.discovery(new URL(issuer), 'rp-post', 'rp-post-dev-secret-0000000', client.ClientSecretPost('rp-post-dev-secret-0000000'), { execute: [client.allowInsecureRequests] });
    const state = client.randomState();
    const { url } = await authorize({ client_id: 'rp-post', state });
    const tokens = await client.authorizationCodeGrant(post, url, { expectedState: state });
    assert.equal(tokens.claims()!.aud, 'rp-post');
  });

  test('oidcc-unsigned-request-object: accepted or rejected as unsupported, never half-used', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ client_id: 'rp-basic', response_type: 'code', redirect_uri: CB, scope: 'openid', state: 'ro-state' })).toString('base64url');
    const { url } = await authorize({ request: `${header}.${payload}.` });
    assert.equal(url.origin, 'https://rp.example');
    assert.ok(url.searchParams.get('code') || ['request_not_supported', 'invalid_request_object'].includes(url.searchParams.get('error')!), url.href);
  });

  test('oidcc-claims-essential: an essential name claim in userinfo', async () => {
    const { tokens } = await codeAndTokens({ claims: JSON.stringify({ userinfo: { name: { essential: true } } }) });
    const info = await client.fetchUserInfo(rp, tokens.access_token, sub);
    assert.equal(info.name, 'Buffy');
  });

  test('oidcc-refresh-token: refresh works, rotates, and keeps the subject', async () => {
    const { tokens } = await codeAndTokens({ scope: 'openid offline_access', prompt: 'consent' });
    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.equal(refreshed.claims()?.sub ?? sub, sub);
    const wrongClient = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('rp-post:rp-post-dev-secret-0000000').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! }),
    });
    assert.equal(wrongClient.status, 400);
  });

  test('oidcc-ensure-request-with-valid-pkce-succeeds; a wrong verifier fails', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const { url } = await authorize({ state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    await client.authorizationCodeGrant(rp, url, { expectedState: state, pkceCodeVerifier: verifier });
    const state2 = client.randomState();
    const second = await authorize({ state: state2, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    await assert.rejects(client.authorizationCodeGrant(rp, second.url, { expectedState: state2, pkceCodeVerifier: client.randomPKCECodeVerifier() }));
  });

  test('oidcc-discovery-endpoint-verification', async () => {
    const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, any>;
    assert.equal(meta.issuer, issuer);
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint']) assert.ok(meta[field]?.startsWith(issuer), field);
    assert.ok(meta.response_types_supported.includes('code'));
    assert.ok(meta.subject_types_supported.includes('public'));
    assert.ok(meta.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(meta.scopes_supported.includes('openid'));
    assert.ok(meta.claims_supported.includes('sub'));
    assert.ok(meta.grant_types_supported.includes('authorization_code'));
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  });
});
