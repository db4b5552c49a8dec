// The device authorization grant's user-code pages (issue 17, item 4): every `GET …/device/auth`
// and `POST …/device` answered 500 (a fresh browser session touched by the error page but never
// saved). Now: wrong method, missing session, wrong or garbage codes get specific answers, and
// the flow works end to end: device authorization, the user enters the code on the page, signs
// in, confirms on the page, and token polling gets tokens.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { finishInteractions } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant } from '../../src/tenancy/registry.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('device flow user-code pages', () => {
  let facet: TestFacet;
  let base: string;
  let sub: string;

  before(async () => {
    facet = await startTestFacet();
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/rp.yaml')), { kek: facet.config.kek, production: false });
    const tenant = (await findTenant(facet.database.db, 'rp'))!;
    sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'tv-viewer' }))).id;
    base = `${facet.baseUrl}/t/rp`;
  });
  after(async () => facet?.close());

  const form = (url: string, jar: CookieJar | undefined, fields: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(jar ? { cookie: jar.header(new URL(url)) } : {}) },
      body: new URLSearchParams(fields),
    });
  const xsrfOf = (page: string) => /name="xsrf" value="([^"]+)"/.exec(page)?.[1];

  test('wrong method, no session, wrong or garbage codes: specific answers, never 500', async () => {
    for (const accept of ['application/json', 'text/html']) {
      const get = await fetch(`${base}/device/auth`, { headers: { accept } });
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
      assert.equal(((await get.json()) as { error: string }).error, 'invalid_request');
    }
    // A POST with no session cookie (a scripted client, an expired cookie): the input page again.
    for (const body of [{} as Record<string, string>, { user_code: 'ABCD-EFGH', xsrf: 'nope' }, { user_code: '\u00e9\u00e9\u00e9', xsrf: '' }, { user_code: 'x'.repeat(5000) }]) {
      const response = await form(`${base}/device`, undefined, body);
      assert.ok(response.status >= 400 && response.status < 500, `${JSON.stringify(body).slice(0, 60)} answered ${response.status}`);
      const page = await response.text();
      assert.match(page, /Connect a device/);
      assert.ok(xsrfOf(page), 'the page offers a fresh form');
    }
    // With the session that page set, a wrong code is refused on the page, kindly.
    const jar = new CookieJar();
    const first = await fetch(`${base}/device`, { headers: { accept: 'text/html' } });
    jar.store(first);
    const wrong = await form(`${base}/device`, jar, { xsrf: xsrfOf(await first.text())!, user_code: 'BCDF-GHJK' });
    assert.equal(wrong.status, 400);
    const wrongPage = await wrong.text();
    assert.match(wrongPage, /That code is not right/);
    assert.ok(xsrfOf(wrongPage), 'and the form to try again');
    // Resume URLs that do not exist.
    const resume = await fetch(`${base}/device/no-such-interaction`, { headers: { accept: 'text/html' } });
    assert.ok(resume.status >= 400 && resume.status < 500, `resume answered ${resume.status}`);
  });

  test('end to end: code entered and confirmed on the pages, sign-in, polling gets tokens', async () => {
    const authorization = await fetch(`${base}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'rp-tv', scope: 'openid offline_access' }) });
    assert.equal(authorization.status, 200);
    const device = (await authorization.json()) as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string };
    const poll = async () => {
      const response = await fetch(`${base}/token`, { method: 'POST', body: new URLSearchParams({ client_id: 'rp-tv', grant_type: DEVICE_GRANT, device_code: device.device_code }) });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    };
    assert.equal((await poll()).body.error, 'authorization_pending');

    // The user opens the verification URI on a phone and types the code.
    const jar = new CookieJar();
    const input = await followRedirects(device.verification_uri, jar, { origin: facet.baseUrl });
    assert.equal(input.response!.status, 200);
    const inputPage = await input.response!.text();
    assert.match(inputPage, /Enter the code your device shows/);
    assert.doesNotMatch(inputPage, /fonts\.googleapis|onfocus=/, 'no third-party fonts, no inline handlers');
    const entered = await form(device.verification_uri, jar, { xsrf: xsrfOf(inputPage)!, user_code: device.user_code.toLowerCase() });
    jar.store(entered);
    // The confirmation page: which client, and the code to compare with the device's.
    assert.equal(entered.status, 200);
    const confirmPage = await entered.text();
    assert.match(confirmPage, /Is this your device\?/);
    assert.ok(confirmPage.includes(`<strong>${device.user_code}</strong>`), 'the code is shown for comparison');
    const fields = Object.fromEntries([...confirmPage.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)].map((m) => [m[1]!, m[2]!]));
    assert.equal(fields.confirm, 'yes');
    const confirmed = await form(device.verification_uri, jar, fields);
    jar.store(confirmed);
    assert.equal(confirmed.status, 303);
    // Sign-in (the test helper stands in for the passkey ceremony, tested elsewhere), then back to
    // the device flow, which ends on the success page.
    const done = await finishInteractions(await followRedirects(new URL(confirmed.headers.get('location')!, base), jar, { origin: facet.baseUrl }), jar, { origin: facet.baseUrl, sub });
    assert.equal(done.response!.status, 200);
    assert.match(await done.response!.text(), /Your device is signed in/);

    const tokens = await poll();
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.ok(tokens.body.access_token && tokens.body.id_token && tokens.body.refresh_token);
    const claims = JSON.parse(Buffer.from(tokens.body.id_token!.split('.')[1]!, 'base64url').toString()) as { sub: string };
    assert.equal(claims.sub, sub);
    // The device code is spent.
    assert.equal((await poll()).body.error, 'invalid_grant');
  });
});
