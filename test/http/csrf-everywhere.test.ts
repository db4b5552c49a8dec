// CSRF is checked for every POST where its binding becomes known (src/interaction/flow.ts,
// src/account/session.ts), not handler by handler: each form and JSON step of the account page and
// of an interaction refuses a POST without the token (403 csrf_failed) and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';

describe('CSRF on every POST', () => {
  let facet: TestFacet;
  let agent: PasskeyAgent;

  before(async () => {
    facet = await startTestFacet();
    agent = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
    assert.ok((await agent.signUp({ username: 'csrf-user', email: 'csrf@demo.example' })).ok);
  });
  after(async () => facet?.close());

  const refuses = async (path: string, form: Record<string, string> = {}) => {
    const response = await agent.request(path, { form: { ...form, csrf: 'not-the-token' } });
    assert.equal(response.status, 403, `${path} without its CSRF token`);
    await response.body?.cancel();
  };

  test('account page: every change refuses a POST without the token', async () => {
    const page = await agent.page('/t/demo/account');
    const passkeyId = /data-passkey-id="([^"]+)"/.exec(page.text)?.[1] ?? 'none';
    for (const path of [
      `/t/demo/account/passkeys/${passkeyId}/rename`,
      `/t/demo/account/passkeys/${passkeyId}/remove`,
      '/t/demo/account/totp/start',
      '/t/demo/account/totp/remove',
      '/t/demo/account/nfc',
      '/t/demo/account/recovery-codes',
      '/t/demo/account/verify/otp',
      '/t/demo/account/sign-out',
      '/t/demo/account/sign-out-everywhere',
    ]) await refuses(path, { name: 'x', code: '123456' });
    const json = await agent.request('/t/demo/account/passkeys/options', { json: { csrf: 'not-the-token' } });
    assert.equal(json.status, 403);
    assert.equal(((await json.json()) as { code: string }).code, 'csrf_failed');
    // Still signed in, still one passkey: nothing was done.
    const after = await agent.page('/t/demo/account');
    assert.equal(after.status, 200);
    assert.equal((after.text.match(/data-passkey-id=/g) ?? []).length, 1);
  });

  test('interaction: every step refuses a POST without the token', async () => {
    const rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const start = await agent.request(url.pathname + url.search);
    const interaction = new URL(start.headers.get('location')!, facet.baseUrl).pathname;
    await agent.page(interaction);
    for (const step of ['/passkey/options', '/identify', '/signup', '/recovery', '/cancel', '/consent']) await refuses(`${interaction}${step}`, { username: 'someone' });
    // The interaction is still open: its page still answers.
    assert.equal((await agent.page(interaction)).status, 200);
  });
});
