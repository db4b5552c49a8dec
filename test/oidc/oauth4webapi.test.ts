// A second, independent client library against Facet (issue 14): oauth4webapi, a low-level
// RFC-by-RFC implementation, drives PAR + DPoP + refresh (a first-party client asking for
// offline_access without prompt=consent), validates the JWT access token as a resource server
// would (RFC 9068), introspects it, and runs the device authorization grant (RFC 8628).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { finishInteractions } from '../support/code-flow.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant } from '../../src/tenancy/registry.ts';

const API = 'https://api.rp.example/';
const CALLBACK = 'http://localhost:3001/callback';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('interop with oauth4webapi', () => {
  let facet: TestFacet;
  let issuer: URL;
  let as: oauth.AuthorizationServer;
  let sub: string;

  before(async () => {
    facet = await startTestFacet();
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/rp.yaml')), { kek: facet.config.kek, production: false });
    const tenant = (await findTenant(facet.database.db, 'rp'))!;
    sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'o4w' }))).id;
    issuer = new URL(`${facet.baseUrl}/t/rp`);
    // RFC 8414 discovery (the path-insertion well-known at the origin), as oauth4webapi builds it.
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(async () => facet?.close());

  test('PAR + DPoP + PKCE code flow, userinfo, DPoP-bound refresh with resource=, RFC 9068 validation and introspection', async () => {
    const client: oauth.Client = { client_id: 'rp-web' };
    const auth = oauth.ClientSecretBasic('rp-web-dev-secret-000000');
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const params = new URLSearchParams({
      redirect_uri: CALLBACK,
      scope: 'openid offline_access orders:read',
      resource: API,
      response_type: 'code',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const pushed = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, auth, params, { DPoP, ...insecure }));
    assert.ok(pushed.request_uri.startsWith('urn:ietf:params:oauth:request_uri:'));

    const authorize = new URL(as.authorization_endpoint!);
    authorize.searchParams.set('client_id', client.client_id);
    authorize.searchParams.set('request_uri', pushed.request_uri);
    const jar = new CookieJar();
    const step = await finishInteractions(await followRedirects(authorize, jar, { origin: facet.baseUrl }), jar, { origin: facet.baseUrl, sub });
    assert.equal(step.response, undefined, 'redirected back to the RP');
    const callback = oauth.validateAuthResponse(as, client, step.url, state);

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, callback, CALLBACK, verifier, { DPoP, ...insecure }),
    );
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    assert.ok(tokens.refresh_token, 'first party: a refresh token without prompt=consent');
    assert.equal(oauth.getValidatedIdTokenClaims(tokens)!.sub, sub);

    // The code exchange named no resource: a userinfo token, bound to the DPoP key.
    const info = await oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }));
    assert.equal(info.sub, sub);
    const unbound = await fetch(as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(unbound.status, 401, 'a DPoP-bound token is refused as a plain bearer token');

    // The refresh (DPoP-bound, rotating) with resource= gives the API's JWT access token.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, { DPoP, additionalParameters: { resource: API }, ...insecure }),
    );
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

    // A resource server validates it (RFC 9068) — the request carries the DPoP proof.
    const apiRequest = new Request(API, { headers: { authorization: `DPoP ${refreshed.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, withDpopProof(apiRequest, await proofFor(DPoP, refreshed.access_token)), API, { ...insecure });
    assert.equal(claims.sub, sub);
    assert.equal(claims.client_id, 'rp-web');
    assert.equal(claims.scope, 'orders:read');

    // … or asks Facet (RFC 7662) as the registered resource server.
    const rs: oauth.Client = { client_id: 'orders-api' };
    const introspected = await oauth.processIntrospectionResponse(
      as,
      rs,
      await oauth.introspectionRequest(as, rs, oauth.ClientSecretBasic('orders-api-dev-secret-000'), refreshed.access_token, insecure),
    );
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, sub);
    assert.ok((introspected.cnf as { jkt?: string } | undefined)?.jkt, 'sender-constrained: cnf.jkt reported');
    assert.equal(introspected.token_type, 'DPoP');

    // Revocation by its client (RFC 7009), then introspection says inactive.
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, refreshed.access_token, insecure));
    const after = await oauth.processIntrospectionResponse(
      as,
      rs,
      await oauth.introspectionRequest(as, rs, oauth.ClientSecretBasic('orders-api-dev-secret-000'), refreshed.access_token, insecure),
    );
    assert.equal(after.active, false);
  });

  test('device authorization grant (RFC 8628): user code entered and confirmed in the browser, then tokens', async () => {
    const client: oauth.Client = { client_id: 'rp-tv', token_endpoint_auth_method: 'none' };
    const auth = oauth.None();
    const device = await oauth.processDeviceAuthorizationResponse(
      as,
      client,
      await oauth.deviceAuthorizationRequest(as, client, auth, new URLSearchParams({ scope: 'openid offline_access' }), insecure),
    );
    assert.ok(device.user_code && device.verification_uri);

    // Not yet approved.
    await assert.rejects(
      oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth, device.device_code, insecure)),
      (error: oauth.ResponseBodyError) => error.error === 'authorization_pending',
    );

    // The user opens the verification URI, enters the code, signs in, confirms.
    const jar = new CookieJar();
    const input = await followRedirects(device.verification_uri, jar, { origin: facet.baseUrl });
    const inputPage = await input.response!.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(inputPage)?.[1];
    assert.ok(xsrf, 'the user-code form');
    const submitted = await postForm(new URL(device.verification_uri), jar, { xsrf, user_code: device.user_code });
    let step = await finishInteractions(submitted, jar, { origin: facet.baseUrl, sub });
    let page = await step.response!.text();
    // The confirmation page (client name and code shown), its form's hidden fields posted back.
    assert.match(page, /name="confirm"/, 'the confirmation page');
    const fields = Object.fromEntries([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)].map((m) => [m[1]!, m[2]!]));
    step = await finishInteractions(await postForm(new URL(device.verification_uri), jar, fields), jar, { origin: facet.baseUrl, sub });
    page = await step.response!.text();
    assert.equal(step.response!.status, 200, page);

    const tokens = await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth, device.device_code, insecure));
    assert.equal(oauth.getValidatedIdTokenClaims(tokens)!.sub, sub);
    assert.ok(tokens.refresh_token, 'offline_access for the first-party device client');
    const info = await oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
    assert.equal(info.sub, sub);
  });

  async function postForm(url: URL, jar: CookieJar, fields: Record<string, string>) {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(url), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams(fields),
    });
    jar.store(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) return followRedirects(new URL(location, url), jar, { origin: facet.baseUrl });
    return { url, response };
  }
});

/** A DPoP proof for a resource request (RFC 9449 §7), made with the client's key via oauth4webapi. */
async function proofFor(DPoP: oauth.DPoPHandle, accessToken: string): Promise<string> {
  let proof = '';
  await oauth.protectedResourceRequest(accessToken, 'GET', new URL(API), new Headers(), null, {
    DPoP,
    [oauth.customFetch]: async (_url: string, init: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) => {
      proof = new Headers(init.headers).get('dpop') ?? '';
      return new Response(null, { status: 204 });
    },
  });
  return proof;
}

function withDpopProof(request: Request, proof: string): Request {
  const headers = new Headers(request.headers);
  headers.set('dpop', proof);
  return new Request(request.url, { headers });
}
