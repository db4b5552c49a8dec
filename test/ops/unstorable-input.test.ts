// NUL bytes and other strings PostgreSQL cannot store (issue 17, item 8): `nonce=%00` or
// `state=a%00b` on an authorization request answered 500 (jsonb: "unsupported Unicode escape
// sequence"). Such input is now refused as invalid_request before it reaches the database, on
// every kind of endpoint: authorization (page and JSON), PAR, token, introspection, interaction
// pages and forms, the account page, the admin API. Runs on the real PostgreSQL when configured.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { adminAuthorization } from '../support/admin-client.ts';

const WEB = `Basic ${Buffer.from('demo-web:demo-web-dev-secret').toString('base64')}`;
const SERVICE = `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`;
let ADMIN = '';
const AUTH = 'client_id=demo-web&response_type=code&scope=openid&redirect_uri=http%3A%2F%2Flocalhost%3A3001%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256';

describe('input PostgreSQL cannot store', () => {
  let facet: TestFacet;
  let demo: string;
  let userId: string;
  before(async () => {
    facet = await startTestFacet();
    demo = `${facet.baseUrl}/t/demo`;
    ADMIN = await adminAuthorization(facet.baseUrl);
    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    userId = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'nul-nora' }))).id;
  });
  after(async () => facet?.close());

  async function oauthError(response: Response) {
    assert.equal(response.status, 400, `${response.url} answered ${response.status}`);
    const body = (await response.json()) as { error: string; error_description?: string };
    assert.equal(body.error, 'invalid_request', JSON.stringify(body));
    return body;
  }

  test('authorization requests: nonce=%00, state=a%00b, a NUL in a parameter name', async () => {
    for (const extra of ['nonce=%00', 'state=a%00b', 'login_hint=%00x', 'ui_locales=en%00', 'x%00y=1']) {
      const url = `${demo}/auth?${AUTH}&${extra}`;
      const json = await oauthError(await fetch(url, { redirect: 'manual', headers: { accept: 'application/json' } }));
      assert.match(json.error_description ?? '', /NUL/);
      const page = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
      assert.equal(page.status, 400);
      assert.match(await page.text(), /invalid_request/);
    }
  });

  test('OAuth endpoints with the NUL in the body: PAR, token, introspection', async () => {
    // PAR keeps the parameters as a sealed request object (nothing unstorable in a column); using
    // it is where they would be stored in the clear: the authorization endpoint refuses it there,
    // back to the client as invalid_request.
    const par = await fetch(`${demo}/request`, { method: 'POST', headers: { authorization: WEB }, body: new URLSearchParams(`${AUTH}&nonce=%00`) });
    assert.equal(par.status, 201);
    const { request_uri } = (await par.json()) as { request_uri: string };
    const used = await fetch(`${demo}/auth?client_id=demo-web&request_uri=${encodeURIComponent(request_uri)}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(used.status, 303);
    const callback = new URL(used.headers.get('location')!);
    assert.equal(callback.origin, 'http://localhost:3001');
    assert.equal(callback.searchParams.get('error'), 'invalid_request');
    assert.match(callback.searchParams.get('error_description') ?? '', /NUL/);
    for (const body of [
      { grant_type: 'client_credentials', scope: 'orders:read\u0000', resource: 'https://api.demo.example/' },
      { grant_type: 'authorization_code', code: 'a\u0000b', redirect_uri: 'http://localhost:3001/callback', code_verifier: 'x'.repeat(43) },
      { grant_type: 'refresh_token', refresh_token: '\u0000' },
    ] as Array<Record<string, string>>) {
      const response = await fetch(`${demo}/token`, { method: 'POST', headers: { authorization: body.grant_type === 'client_credentials' ? SERVICE : WEB }, body: new URLSearchParams(body) });
      assert.ok(response.status >= 400 && response.status < 500, `${body.grant_type} answered ${response.status}`);
    }
    const introspection = await fetch(`${demo}/token/introspection`, { method: 'POST', headers: { authorization: WEB }, body: new URLSearchParams({ token: 'a\u0000b' }) });
    assert.ok(introspection.status < 500, `introspection answered ${introspection.status}`);
  });

  test("Facet's own pages, forms and API", async () => {
    // A NUL in the path or the query of a page.
    for (const path of ['/interaction/%00', '/interaction/abc%00/consent']) {
      const page = await fetch(`${demo}${path}`, { headers: { accept: 'application/json' } });
      assert.equal(page.status, 400);
      assert.equal(((await page.json()) as { code: string }).code, 'invalid_request');
    }
    const account = await fetch(`${demo}/account?next=%00`, { headers: { accept: 'application/json' } });
    assert.equal(account.status, 400);
    assert.equal(((await account.json()) as { code: string }).code, 'invalid_request');
    // Forms: a username with a NUL on the sign-in and sign-up steps of a real interaction.
    const jar = new CookieJar();
    const login = await followRedirects(`${demo}/auth?${AUTH}`, jar, { origin: facet.baseUrl });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await login.response!.text())?.[1] ?? '';
    for (const [step, fields] of [
      ['identify', { csrf, username: 'nul\u0000nora' }],
      ['signup', { csrf, username: 'new\u0000user', display_name: 'x' }],
    ] as const) {
      const url = new URL(`${login.url.pathname}/${step}`, facet.baseUrl);
      const response = await fetch(url, { method: 'POST', redirect: 'manual', headers: { cookie: jar.header(url), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: new URLSearchParams(fields) });
      assert.ok(response.status < 500, `${step} answered ${response.status}`);
    }
    // The admin API: JSON strings with a NUL or an unpaired surrogate.
    for (const body of ['{"factor":"otp\\u0000"}', '{"factor":"\\ud800"}']) {
      const response = await fetch(`${demo}/admin/api/users/${userId}/unlock`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body });
      assert.equal(response.status, 400, body);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
    }
    const query = await fetch(`${demo}/admin/api/failed-attempts?hours=1%00`, { headers: { authorization: ADMIN } });
    assert.equal(query.status, 400);
  });
});
