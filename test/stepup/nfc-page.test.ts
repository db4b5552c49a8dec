// The NFC step-up page in Chromium: it loads its script under the strict CSP, keeps the Web NFC
// button hidden where the browser has no NDEFReader (the pasted link works), and with a (stubbed)
// NDEFReader reads the card's URL record and submits it by itself. The passkey step runs over
// HTTP with the software authenticator; the browser takes over the interaction's cookies.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, BrowserContext } from 'playwright-core';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';
import { launchBrowser } from '../browser/support.ts';
import { generateSunUrl } from '../../src/factors/nfc/index.ts';

const NFC = 'urn:facet:acr:passkey+nfc';
// Nothing listens there: the test reads the code from the browser's request to the RP.
const RP_CALLBACK = /^http:\/\/localhost:3001\/callback\?/;
const CARD = { uid: '04112233445566', metaReadKey: randomBytes(16).toString('hex'), fileReadKey: randomBytes(16).toString('hex') };
const tap = (counter: number) => generateSunUrl({ ...CARD, counter, baseUrl: 'https://cards.demo.example/tap' });

describe('NFC step-up page in Chromium', () => {
  let facet: TestFacet;
  let browser: Browser;
  let rp: client.Configuration;
  const authenticator = new SoftAuthenticator();

  before(async () => {
    facet = await startTestFacet();
    browser = await launchBrowser();
    rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    const agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    assert.ok((await agent.signUp({ username: 'nell', email: 'nell@demo.example' })).ok);
    await agent.page('/t/demo/account/nfc');
    const enrolled = await agent.request('/t/demo/account/nfc', { form: { csrf: agent.csrf, name: 'Card', ...CARD, tap: tap(1) } });
    assert.equal(enrolled.status, 303);
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  /** RP request and passkey over HTTP; returns the NFC page's URL and a browser holding the cookies. */
  async function atNfcPage(): Promise<{ url: string; context: BrowserContext; verifier: string }> {
    const agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const verifier = client.randomPKCECodeVerifier();
    const auth = client.buildAuthorizationUrl(rp, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', acr_values: NFC });
    const location = (await agent.request(auth.href)).headers.get('location')!;
    await agent.page(location);
    const options = await agent.json(`${location}/passkey/options`, { csrf: agent.csrf });
    const verified = await agent.json(`${location}/passkey/verify`, { csrf: agent.csrf, response: authenticator.get(options.data, { origin: facet.baseUrl }) });
    assert.equal(verified.data.redirect, `${location}/stepup/nfc`);
    const url = new URL(verified.data.redirect, facet.baseUrl);
    const context = await browser.newContext();
    // The interaction's cookies, and the resume cookie oidc-provider set at the authorization request.
    const resume = new URL(url.pathname.replace(/\/interaction\/([^/]+)\/.*$/, '/auth/$1'), facet.baseUrl);
    for (const at of [url, resume]) {
      const path = at.pathname.replace(/\/stepup\/nfc$/, '');
      const cookies = agent.jar.header(at).split('; ').filter(Boolean).map((pair) => {
        const [name, ...value] = pair.split('=');
        return { name: name!, value: value.join('='), domain: 'localhost', path };
      });
      await context.addCookies(cookies);
    }
    return { url: url.href, context, verifier };
  }

  async function claimsFrom(callback: string, verifier: string) {
    return (await client.authorizationCodeGrant(rp, new URL(callback), { pkceCodeVerifier: verifier })).claims()!;
  }

  test('without Web NFC: no scan button, no CSP violation, the pasted link steps up', async () => {
    const { url, context, verifier } = await atNfcPage();
    // Desktop Chromium exposes NDEFReader (its scan() then fails); take it away as on other browsers.
    await context.addInitScript(() => Object.defineProperty(window, 'NDEFReader', { value: undefined, configurable: true }));
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      // Missing resources are checked by URL below (the browser also asks for /favicon.ico).
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(url);
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('#nfc-scan').count(), 0);
    await page.getByLabel('Link from your card').fill(tap(2));
    assert.deepEqual(problems, []);
    const callback = page.waitForRequest(RP_CALLBACK);
    await page.getByRole('button', { name: 'Confirm' }).click();
    assert.equal((await claimsFrom((await callback).url(), verifier)).acr, NFC);
    await context.close();
  });

  test('with Web NFC: the scan button reads the card URL record and submits it', async () => {
    const { url, context, verifier } = await atNfcPage();
    await context.addInitScript((tapped: string) => {
      class FakeReader extends EventTarget {
        async scan() {
          setTimeout(() => {
            const event = new Event('reading') as Event & { message?: unknown };
            event.message = { records: [{ recordType: 'url', data: new DataView(new TextEncoder().encode(tapped).buffer) }] };
            this.dispatchEvent(event);
          }, 50);
        }
      }
      (window as unknown as { NDEFReader: unknown }).NDEFReader = FakeReader;
    }, tap(3));
    const page = await context.newPage();
    await page.goto(url);
    const scan = page.getByRole('button', { name: 'Scan my card' });
    await scan.waitFor({ state: 'visible' });
    const callback = page.waitForRequest(RP_CALLBACK);
    await scan.click();
    const claims = await claimsFrom((await callback).url(), verifier);
    assert.equal(claims.acr, NFC);
    assert.ok((claims.amr as string[]).includes('sc'));
    await context.close();
  });
});
