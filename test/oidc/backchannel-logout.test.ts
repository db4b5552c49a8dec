// Back-channel logout end to end (issue 14): a real receiving endpoint gets a valid logout token
// (signature, iss, aud, iat, jti, events, sid, sub; no nonce) when the user signs out at the RP,
// when an admin signs them out everywhere, and when the account is deleted. Front-channel logout
// is not offered and not advertised.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { startTestFacet, freePort, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { codeFlow } from '../support/code-flow.ts';
import { followRedirects } from '../support/http-agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { parseTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';
import { adminAuthorization } from '../support/admin-client.ts';

const ADMIN_SECRET = 'bcl-admin-dev-secret-000000';
const SECRET = 'bcl-web-dev-secret-000000';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('back-channel logout', () => {
  let facet: TestFacet;
  let receiver: Server;
  let issuer: string;
  let tenant: TenantRecord;
  const received: string[] = [];
  let waiting: ((token: string) => void) | undefined;

  const nextLogoutToken = () =>
    new Promise<string>((resolve, reject) => {
      const queued = received.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(() => reject(new Error('no logout token within 5 s')), 5000);
      waiting = (token) => {
        clearTimeout(timer);
        resolve(token);
      };
    });

  before(async () => {
    const port = await freePort();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token') ?? '';
        res.writeHead(req.url === '/bcl' && req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? 200 : 400).end();
        if (waiting) {
          const deliver = waiting;
          waiting = undefined;
          deliver(token);
        } else received.push(token);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    facet = await startTestFacet();
    const file = parseTenantFile(`
slug: bcl
name: Back-channel
settings:
  signup: open
clients:
  - client_id: bcl-admin
    grant_types: [client_credentials]
    secret: { env: BCL_ADMIN_SECRET, dev: ${ADMIN_SECRET} }
    admin_scopes: [admin:write]
  - client_id: bcl-web
    first_party: true
    redirect_uris: [http://localhost:3001/callback]
    post_logout_redirect_uris: [http://localhost:3001/]
    grant_types: [authorization_code, refresh_token]
    secret: { env: BCL_WEB_SECRET, dev: ${SECRET} }
    backchannel_logout_uri: http://127.0.0.1:${port}/bcl
    backchannel_logout_session_required: true
`);
    await applyTenantFile(facet.database.db, file, { kek: facet.config.kek, production: false });
    issuer = `${facet.baseUrl}/t/bcl`;
    tenant = (await findTenant(facet.database.db, 'bcl'))!;
  });
  after(async () => {
    await facet?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function signedIn() {
    const sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: `bcl-${Date.now()}-${Math.random().toString(36).slice(2, 6)}` }))).id;
    const config = await discover(issuer, 'bcl-web', SECRET);
    const { tokens, jar } = await codeFlow(config, { origin: facet.baseUrl, sub, redirectUri: 'http://localhost:3001/callback', scope: 'openid' });
    const sid = tokens.claims()!.sid as string;
    assert.ok(sid, 'the ID token carries sid (backchannel_logout_session_required)');
    return { sub, sid, tokens, jar };
  }

  async function assertLogoutToken(token: string, { sub, sid }: { sub: string; sid: string }): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer}/jwks`)), { issuer, audience: 'bcl-web', maxTokenAge: 120 });
    assert.equal(decodeProtectedHeader(token).typ, 'logout+jwt');
    assert.deepEqual(payload.events, { [EVENT]: {} });
    assert.equal(payload.sub, sub);
    assert.equal(payload.sid, sid);
    assert.equal(typeof payload.jti, 'string');
    assert.equal(typeof payload.iat, 'number');
    assert.equal(payload.nonce, undefined, 'a logout token never carries a nonce');
    return payload;
  }

  test('discovery: back-channel logout with sid; front-channel logout not advertised', async () => {
    const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(meta.backchannel_logout_supported, true);
    assert.equal(meta.backchannel_logout_session_supported, true);
    assert.equal(meta.frontchannel_logout_supported, undefined);
    assert.equal(meta.frontchannel_logout_session_supported, undefined);
  });

  test('the user signs out at the RP (RP-initiated logout)', async () => {
    const who = await signedIn();
    const start = new URL(`${issuer}/session/end`);
    start.searchParams.set('id_token_hint', who.tokens.id_token!);
    const confirm = await followRedirects(start, who.jar, { origin: facet.baseUrl });
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await confirm.response!.text())?.[1];
    assert.ok(xsrf);
    const url = new URL(`${issuer}/session/end/confirm`);
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: who.jar.header(url), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    assert.ok(response.status < 400);
    await assertLogoutToken(await nextLogoutToken(), who);
  });

  test('an admin signs the user out everywhere', async () => {
    const who = await signedIn();
    const response = await fetch(`${issuer}/admin/api/users/${who.sub}/sign-out`, { method: 'POST', headers: { authorization: await adminAuthorization(facet.baseUrl, { slug: 'bcl', clientId: 'bcl-admin', secret: ADMIN_SECRET }) } });
    assert.equal(response.status, 200);
    await assertLogoutToken(await nextLogoutToken(), who);
    // And the RP's tokens are dead too.
    await assert.rejects(client.fetchUserInfo(await discover(issuer, 'bcl-web', SECRET), who.tokens.access_token, who.sub));
  });

  test('the account is deleted', async () => {
    const who = await signedIn();
    const response = await fetch(`${issuer}/admin/api/users/${who.sub}`, { method: 'DELETE', headers: { authorization: await adminAuthorization(facet.baseUrl, { slug: 'bcl', clientId: 'bcl-admin', secret: ADMIN_SECRET }) } });
    assert.equal(response.status, 204);
    await assertLogoutToken(await nextLogoutToken(), who);
  });

  test('the user signs out everywhere on the account page', async () => {
    const agent = new PasskeyAgent(facet.baseUrl, 'bcl', new SoftAuthenticator());
    const username = `bcl-page-${Date.now()}`;
    assert.ok((await agent.signUp({ username, email: `${username}@bcl.example` })).ok);
    const sub = (await withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow())).id as string;
    const config = await discover(issuer, 'bcl-web', SECRET);
    const { tokens } = await codeFlow(config, { origin: facet.baseUrl, sub, redirectUri: 'http://localhost:3001/callback', scope: 'openid' });
    await agent.page('/t/bcl/account');
    const response = await agent.request('/t/bcl/account/sign-out-everywhere', { form: { csrf: agent.csrf } });
    assert.equal(response.status, 303);
    await assertLogoutToken(await nextLogoutToken(), { sub, sid: tokens.claims()!.sid as string });
  });

  test('a first-party client asking for more on an existing grant gets it without a consent page', async () => {
    const who = await signedIn();
    const config = await discover(issuer, 'bcl-web', SECRET);
    const verifier = client.randomPKCECodeVerifier();
    const more = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://localhost:3001/callback',
      scope: 'openid offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const step = await followRedirects(more, who.jar, { origin: facet.baseUrl });
    assert.equal(step.url.origin, 'http://localhost:3001', `no interaction, straight back (got ${step.url})`);
    const tokens = await client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier });
    assert.ok(tokens.refresh_token, 'offline_access granted on the existing grant');
  });
});
