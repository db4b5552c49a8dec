// The consent page's edges: a consent posted while the interaction is still at login is a 400
// page (not a 500), and prompt=consent asks again even when the user allowed this client before.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';

describe('consent prompts', () => {
  let facet: TestFacet;
  let rp: client.Configuration;
  let agent: PasskeyAgent;

  before(async () => {
    facet = await startTestFacet({ tenantsDir: path.join(projectRoot, 'test/fixtures/tenants-assurance') });
    rp = await discover(`${facet.baseUrl}/t/bank`, 'bank-partner', 'bank-partner-dev-secret-00000000000000000000000');
    agent = new PasskeyAgent(facet.baseUrl, 'bank', new SoftAuthenticator());
    assert.ok((await agent.signUp({ username: 'carol', email: 'carol@bank.example' })).ok);
  });
  after(async () => facet?.close());

  async function start(extra: Record<string, string> = {}) {
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...extra });
    let response = await agent.request(url.pathname + url.search);
    let location = response.headers.get('location');
    while (location && new URL(location, facet.baseUrl).origin === facet.baseUrl && !/\/interaction\/[^/]+$/.test(new URL(location, facet.baseUrl).pathname)) {
      await response.body?.cancel();
      response = await agent.request(location);
      location = response.headers.get('location');
    }
    await response.body?.cancel();
    return location ? new URL(location, facet.baseUrl) : undefined;
  }

  async function passkey(interaction: URL): Promise<string> {
    await agent.page(interaction.pathname);
    const options = await agent.json(`${interaction.pathname}/passkey/options`, { csrf: agent.csrf });
    const verified = await agent.json(`${interaction.pathname}/passkey/verify`, { csrf: agent.csrf, response: agent.authenticator.get(options.data, { origin: facet.baseUrl }) });
    assert.equal(verified.status, 200, JSON.stringify(verified.data));
    return verified.data.redirect as string;
  }

  /** Follows redirects from `from` until a page answers or the RP is reached. */
  async function land(from: string): Promise<{ url: URL; status: number; text: string }> {
    let url = new URL(from, facet.baseUrl);
    for (let i = 0; i < 8 && url.origin === facet.baseUrl; i += 1) {
      const response = await agent.request(url.pathname + url.search);
      const location = response.headers.get('location');
      if (location) {
        await response.body?.cancel();
        url = new URL(location, url);
        continue;
      }
      const page = await agent.page(url.pathname + url.search);
      return { url, status: page.status, text: page.text };
    }
    return { url, status: 0, text: '' };
  }

  test('a consent posted while the interaction is still at login is a 400 page', async () => {
    const interaction = (await start())!;
    await agent.page(interaction.pathname);
    const response = await agent.request(`${interaction.pathname}/consent`, { form: { csrf: agent.csrf, decision: 'allow' } });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
  });

  test('allowed once, remembered; prompt=consent asks again', async () => {
    const first = await land(await passkey((await start())!));
    assert.match(first.text, /Partner budgeting app/, 'the consent page names the client');
    const allowed = await agent.request(`${first.url.pathname}/consent`, { form: { csrf: agent.csrf, decision: 'allow' } });
    assert.equal(allowed.status, 303);
    const done = await land(allowed.headers.get('location')!);
    assert.equal(done.url.origin, 'http://localhost:3001');
    assert.ok(done.url.searchParams.get('code'));

    // Signed in, consent remembered: straight back to the RP.
    const again = await start();
    assert.equal(again?.origin, 'http://localhost:3001');
    // prompt=consent: the page again.
    const asked = await start({ prompt: 'consent' });
    assert.match(asked!.pathname, /\/interaction\/[^/]+$/);
    const page = await land(asked!.pathname);
    assert.equal(page.status, 200);
    assert.match(page.text, /Partner budgeting app/);
    assert.match(page.text, /name="decision" value="allow"/);
  });
});
