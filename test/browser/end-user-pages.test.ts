// Issue 18 in Chromium: passkey failures say what happened and what to do next (a second passkey
// on the same device, a username with no passkey here, the server's own CSRF and 429 messages),
// sign-in pages offer another device and a way back to the application, step-up pages offer the
// other factors that would also do, and a requirement the account cannot meet is explained on a
// page before the relying party hears unmet_authentication_requirements. Every page state is
// checked with axe-core at desktop (1280×800) and phone (390×844) width, screenshots in
// test-artifacts/passkey/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { freePort, projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { bumpConfigVersion, findTenant } from '../../src/tenancy/registry.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findLiveUserByUsername } from '../../src/accounts/users.ts';
import { darkModeShade } from '../../src/tenancy/brand-color.ts';
import { installAutofillSwitch, launchBrowser, pageWithAuthenticator, screenshot, setAutofill, type AuthenticatorPage, axeViolations } from './support.ts';


const BRAND = '#c2410c';
const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

/** axe-core (WCAG 2 A/AA) at desktop and phone width, light and dark mode, no horizontal scrolling; a screenshot of each. */
export async function assertAccessible(page: Page, what: string, shot?: string): Promise<void> {
  const before = page.viewportSize();
  for (const viewport of [...VIEWPORTS, { ...VIEWPORTS[0]!, name: 'desktop, dark mode', dark: true }, { ...VIEWPORTS[1]!, name: 'phone, dark mode', dark: true }]) {
    await page.emulateMedia({ colorScheme: 'dark' in viewport ? 'dark' : 'light' });
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    const result = { violations: await axeViolations(page) };
    assert.deepEqual(
      result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`),
      [],
      `${what} passes axe at ${viewport.name} width`,
    );
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${what}: no horizontal scrolling at ${viewport.name} width`);
    if (shot) await screenshot(page, `${shot}-${viewport.name.replace(', dark mode', '-dark')}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (before) await page.setViewportSize(before);
}

describe('end-user pages (issue 18) in Chromium', () => {
  let facet: TestFacet;
  let browser: Browser;
  let tab: AuthenticatorPage;
  let rp: client.Configuration;
  let partner: client.Configuration;
  let CALLBACK: string;
  let rpServer: Server;
  const cspViolations: string[] = [];

  before(async () => {
    facet = await startTestFacet();
    const rpPort = await freePort();
    CALLBACK = `http://localhost:${rpPort}/callback`;
    rpServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>back at the relying party</p>'));
    await new Promise<void>((resolve) => rpServer.listen(rpPort, '127.0.0.1', resolve));
    const file = await readTenantFile(path.join(projectRoot, 'test/browser/fixtures/demo-with-partner.yaml'));
    file.clients.find((c) => c.client_id === 'demo-web')!.redirect_uris = [CALLBACK];
    file.clients.find((c) => c.client_id === 'partner-app')!.redirect_uris = [CALLBACK];
    // An orange brand: every page below is checked by axe with it.
    file.settings.brand_color = BRAND;
    await applyTenantFile(facet.database.db, file, { kek: facet.config.kek, production: false });
    await bumpConfigVersion(facet.database.db, 'demo');
    rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    partner = await discover(`${facet.baseUrl}/t/demo`, 'partner-app', 'partner-app-dev-secret');
    browser = await launchBrowser();
    tab = await pageWithAuthenticator(browser);
    await installAutofillSwitch(tab.context);
    await setAutofill(tab.context, facet.baseUrl, false);
    tab.page.setDefaultTimeout(10_000);
    tab.page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
    rpServer?.close();
  });

  async function startFlow(acrValues: string, config = rp): Promise<URL> {
    return client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      acr_values: acrValues,
    });
  }

  async function atCallback(page: Page): Promise<URL> {
    await page.waitForURL((u) => u.href.startsWith(CALLBACK), { timeout: 15_000 });
    return new URL(page.url());
  }

  async function statusText(page: Page, pattern: RegExp): Promise<string> {
    const region = page.locator('[data-page] #status', { hasText: pattern });
    await region.waitFor();
    return (await region.textContent())!.trim();
  }

  test('sign-in page: another-device hint, a typed username without a passkey here, the CSRF message, cancel back to the app', async () => {
    const { page } = tab;
    await page.goto((await startFlow('urn:facet:acr:passkey')).href);
    await page.getByRole('heading', { name: 'Sign in to Demo Organisation' }).waitFor();
    assert.match((await page.locator('#other-device').textContent())!, /Use a phone or tablet/);
    await assertAccessible(page, 'sign-in page', '50-sign-in');

    // A username nobody has (or whose passkey is elsewhere): not "the prompt was closed".
    await page.getByLabel('Username').fill('nobody-here');
    await page.getByRole('button', { name: 'Continue' }).click();
    const text = await statusText(page, /No passkey/);
    assert.equal(text, 'No passkey for “nobody-here” was found on this device, or the prompt was closed. Check the username, use the passkey on your phone (“Use a phone or tablet”), or use a recovery code.');
    assert.match((await page.locator('#other-device').getAttribute('class'))!, /highlight/, 'the other-device hint is pointed at');
    await assertAccessible(page, 'sign-in page with an error', '51-sign-in-no-passkey-here');

    // A stale CSRF token: the server's own message, not a generic one.
    await page.locator('[data-page=sign-in]').evaluate((root: HTMLElement) => {
      root.dataset.csrf = 'forged';
    });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    assert.match(await statusText(page, /form/), /The form was not sent from this page, or it is too old/);

    // Back to the application: it hears access_denied.
    await page.getByRole('button', { name: 'Cancel and go back to Demo web app' }).click();
    const callback = await atCallback(page);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('code'), null);
  });

  test('adding a passkey on a device that already has one says so and offers another device', async () => {
    const { page } = tab;
    await page.goto(`${facet.baseUrl}/t/demo/account`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('grace');
    await page.getByLabel('Email').fill('grace@demo.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
    assert.match((await page.locator('#other-device').textContent())!, /Use a phone or tablet/);
    await assertAccessible(page, 'create-passkey page', '52-create-passkey');
    await page.getByRole('button', { name: 'Create a passkey' }).click();

    // The recovery codes: each code whole on one line (desktop and phone), copy, download, print.
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = (await page.locator('#recovery-codes code').allTextContents()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      const lines = await page.locator('#recovery-codes code').evaluateAll((elements) => elements.map((e) => e.getClientRects().length));
      assert.deepEqual(lines, codes.map(() => 1), `no code broken across lines at ${width} px`);
    }
    await page.setViewportSize({ width: 1280, height: 720 });
    await tab.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: facet.baseUrl });
    await page.getByRole('button', { name: 'Copy codes' }).click();
    await page.getByText('Codes copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${codes.join('\n')}\n`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download (.txt)' }).click()]);
    assert.equal(download.suggestedFilename(), 'demo-organisation-recovery-codes.txt');
    const file = await readFile((await download.path())!, 'utf8');
    assert.match(file, /^Recovery codes for Demo Organisation\. Each code signs you in once\./);
    for (const code of codes) assert.ok(file.includes(`\n${code}\n`), `${code} in the file`);
    assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), true);
    await assertAccessible(page, 'recovery codes page', '52b-recovery-codes');

    await page.getByRole('button', { name: 'I have saved my codes' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    // The same authenticator again: excludeCredentials makes the browser refuse (InvalidStateError).
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const text = await statusText(page, /already has a passkey/);
    assert.equal(text, 'This device already has a passkey for your account, so it cannot make a second one. Use another device or a security key — or choose “Use a phone or tablet” in the prompt.');
    assert.doesNotMatch(text, /Something went wrong/);
  });

  test('a sign-in that cannot meet the request: a page says what the app needs, then the app hears unmet_authentication_requirements', async () => {
    const { page } = tab;
    await page.goto((await startFlow('urn:facet:acr:passkey+otp')).href);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Demo web app needs a sign-in your account cannot give yet' }).waitFor();
    assert.match(new URL(page.url()).pathname, /\/interaction\/[^/]+\/requirements$/);
    assert.equal(await page.getByRole('link', { name: 'Open your account page' }).count(), 1, 'how to add what is missing');
    await assertAccessible(page, 'requirements page (sign-in)', '53-requirements-sign-in');
    await page.getByRole('button', { name: 'Back to Demo web app' }).click();
    const callback = await atCallback(page);
    assert.equal(callback.searchParams.get('error'), 'unmet_authentication_requirements');
  });

  test('step-up pages offer the other factors that would also do, and a way back to the app', async () => {
    const { page } = tab;
    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    // An authenticator app and an NFC card on file (only their presence matters for these pages).
    await withTenant(facet.database.db, tenant, async (trx) => {
      const user = (await findLiveUserByUsername(trx, 'grace'))!;
      await trx.insertInto('totp_factors').values({ user_id: user.id, secret_encrypted: 'not-used-here', confirmed_at: new Date() }).execute();
      await trx.insertInto('nfc_cards').values({ user_id: user.id, uid: '04A1B2C3D4E580', keys_encrypted: 'not-used-here', name: 'Blue card' }).execute();
    });
    const either = 'urn:facet:acr:passkey+otp urn:facet:acr:passkey+nfc';

    // A first sign-in asking for either: after the passkey, the app-code page offers the card.
    await page.goto((await startFlow(either)).href);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: /authenticator app|NFC card/ }).waitFor();
    const first = new URL(page.url()).pathname.endsWith('/stepup/otp') ? 'otp' : 'nfc';
    const other = first === 'otp' ? 'nfc' : 'otp';
    const others = page.locator('#other-ways');
    assert.equal(await others.getByRole('heading', { name: 'Try another method' }).count(), 1);
    assert.deepEqual(await others.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('data-factor'))), [other]);
    await assertAccessible(page, `step-up page (${first})`, `54-step-up-${first}`);
    await others.locator('a').click();
    await page.waitForURL((u) => u.pathname.endsWith(`/stepup/${other}`));
    assert.deepEqual(await page.locator('#other-ways a').evaluateAll((links) => links.map((a) => a.getAttribute('data-factor'))), [first], 'and back again');
    await assertAccessible(page, `step-up page (${other})`, `55-step-up-${other}`);
    await page.getByRole('button', { name: 'Cancel and go back to Demo web app' }).click();
    assert.equal((await atCallback(page)).searchParams.get('error'), 'access_denied');
  });

  test('a signed-in session asked for more: the introduction names the next step, other ways and the way back', async () => {
    const { page } = tab;
    await page.goto((await startFlow('urn:facet:acr:passkey')).href);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const done = await atCallback(page);
    assert.ok(done.searchParams.get('code'), 'signed in');
    await page.goto((await startFlow('urn:facet:acr:passkey+otp urn:facet:acr:passkey+nfc')).href);
    await page.getByRole('heading', { name: 'Demo web app asks for a stronger sign-in' }).waitFor();
    assert.equal(await page.locator('#other-ways a').count(), 1);
    await assertAccessible(page, 'step-up introduction', '56-step-up-intro');
    await page.getByRole('button', { name: 'Cancel and go back to Demo web app' }).click();
    assert.equal((await atCallback(page)).searchParams.get('error'), 'access_denied');
  });

  test('too many sign-in attempts for one username: the page shows the server’s 429 message', async () => {
    const { page } = tab;
    await page.goto(`${facet.baseUrl}/t/demo/account/sign-in`);
    // Spend the username's sign-in budget (signin.account) from the page itself.
    const statuses = await page.locator('[data-page=sign-in]').evaluate(async (root: HTMLElement) => {
      const seen: number[] = [];
      for (let i = 0; i < 12; i += 1) {
        const response = await fetch(root.dataset.optionsUrl!, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ csrf: root.dataset.csrf, username: 'grace' }) });
        seen.push(response.status);
      }
      return seen;
    });
    assert.ok(statuses.includes(429), `the limit answers 429 (${statuses.join(',')})`);
    await page.getByLabel('Username').fill('grace');
    await page.getByRole('button', { name: 'Continue' }).click();
    const text = await statusText(page, /Too many attempts/);
    // signin.account blocks for five minutes once crossed: the wait is told in minutes.
    assert.equal(text, 'Too many attempts. Wait 5 minutes and try again.');
    await assertAccessible(page, 'sign-in page with a 429', '57-sign-in-429');
  });

  test('account page: sections, provider-named passkeys, readable devices, per-session sign-out, connected apps with revoke, confirmations', async () => {
    const { page } = tab;
    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    const userId = await withTenant(facet.database.db, tenant, async (trx) => {
      const user = (await findLiveUserByUsername(trx, 'grace'))!;
      // Google Password Manager's AAGUID (the virtual authenticator's is in no list).
      await trx.updateTable('webauthn_credentials').set({ aaguid: 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4' }).where('user_id', '=', user.id).execute();
      // The placeholder factors of the step-up test hold no real secrets: gone before the account page reads them.
      await trx.deleteFrom('totp_factors').where('user_id', '=', user.id).execute();
      await trx.deleteFrom('nfc_cards').where('user_id', '=', user.id).execute();
      return user.id;
    });
    // A third-party app she consents to, in the browser session she already has.
    await page.goto((await startFlow('urn:facet:acr:passkey', partner)).href);
    if (await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible()) await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    assert.ok((await atCallback(page)).searchParams.get('code'), 'consented and signed in');
    // prompt=consent with everything granted already: the page lists what it asks for, not nothing.
    const again = await startFlow('urn:facet:acr:passkey', partner);
    again.searchParams.set('prompt', 'consent');
    await page.goto(again.href);
    await page.getByText('You allowed this before; it asks you to confirm that it may:').waitFor();
    assert.deepEqual(await page.locator('#consent-scopes li').allTextContents(), ['Know who you are']);
    await assertAccessible(page, 'consent page asked again', '59-consent-again');
    await page.getByRole('button', { name: 'Allow' }).click();
    assert.ok((await atCallback(page)).searchParams.get('code'), 'allowed again');

    await page.goto(`${facet.baseUrl}/t/demo/account`);
    if (new URL(page.url()).pathname.endsWith('/sign-in')) {
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    }
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor().catch(async (error) => {
      throw new Error(`stuck at ${page.url()}: ${(await page.locator('main').textContent())?.trim()}`, { cause: error });
    });
    const nav = page.getByRole('navigation', { name: 'Account sections' });
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Security', 'Devices and sessions', 'Connected apps', 'Activity']);
    for (const heading of ['Security', 'Devices and sessions', 'Connected apps', 'Activity']) assert.equal(await page.getByRole('heading', { name: heading, level: 2 }).count(), 1, heading);
    assert.equal((await page.locator('#passkeys .passkey-name').first().textContent())!.trim(), 'Google Password Manager', 'named after its provider');
    assert.equal(await page.locator('#passkeys').getByRole('textbox').first().isVisible(), false, 'rename is behind a button');
    const signIns = (await page.locator('#sign-ins').textContent())!;
    assert.match(signIns, /Chrom\w* on Linux/, 'browser and OS, parsed');
    assert.doesNotMatch(signIns, /Mozilla\/5\.0|AppleWebKit/, 'never the raw User-Agent');
    assert.ok((await page.locator('#sign-ins .this-device').count()) >= 1, 'this device is marked');
    assert.match((await page.locator('#sign-ins .this-device').first().textContent())!, /This device/);
    assert.equal(await page.getByRole('button', { name: 'Sign out everywhere' }).count(), 0, 'not a primary button');
    await assertAccessible(page, 'account page', '60-account');

    // Connected apps: Partner App (consented), revoked: consent and grants gone, listed no more.
    const apps = page.locator('#connected-apps');
    assert.match((await apps.textContent())!, /Partner App/);
    await apps.locator('li', { hasText: 'Partner App' }).getByRole('button', { name: /Revoke access/ }).click();
    await page.getByText('Access revoked.').waitFor();
    assert.equal(await page.locator('#connected-apps li', { hasText: 'Partner App' }).count(), 0);
    const consents = await withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('remembered_consents').select('client_id').where('user_id', '=', userId).execute());
    assert.deepEqual(consents.map((c) => c.client_id), []);

    // One application session signed out: the app's next request asks to sign in again.
    const sessions = page.locator('#sessions > li');
    assert.ok((await sessions.count()) >= 1, 'the app session is listed');
    assert.match((await sessions.first().textContent())!, /Demo web app|Partner App/);
    const before = await sessions.count();
    await sessions.first().getByRole('button', { name: /Sign out this session/ }).click();
    await page.getByText('That session has been signed out.').waitFor();
    assert.equal(await page.locator('#sessions > li').count(), before - 1);
    await page.goto((await startFlow('urn:facet:acr:passkey')).href);
    await page.getByRole('heading', { name: 'Sign in to Demo Organisation' }).waitFor();

    // Confirmations before destructive changes, each a page of its own (no script needed).
    const passkeyId = await withTenant(facet.database.db, tenant, async (trx) => (await trx.selectFrom('webauthn_credentials').select('id').where('user_id', '=', userId).executeTakeFirstOrThrow()).id);
    const confirmations: Array<[string, string, string]> = [
      [`passkeys/${passkeyId}/remove`, 'Remove the passkey “Google Password Manager”?', 'Yes, remove the passkey'],
      ['totp/remove', 'Remove the authenticator app?', 'Remove authenticator app'],
      ['face/delete', 'Delete your face check?', 'Yes, delete my face check'],
      ['sign-out-everywhere', 'Sign out everywhere?', 'Yes, sign out everywhere'],
    ];
    for (const [path, heading, button] of confirmations) {
      await page.goto(`${facet.baseUrl}/t/demo/account/${path}`);
      await page.getByRole('heading', { name: heading }).waitFor();
      assert.equal(await page.getByRole('button', { name: button }).count(), 1, `${path}: the confirming button`);
      assert.equal(await page.getByRole('link', { name: 'Cancel, keep it' }).count(), 1, `${path}: a way back`);
      await assertAccessible(page, `confirmation ${path}`, `61-confirm-${path.split('/').at(-1)}`);
    }
  });

  test('form errors: said once, and focus on the first field in error (sign-up, recovery code)', async () => {
    const { page } = tab;
    await page.goto(`${facet.baseUrl}/t/demo/account/sign-in/signup`);
    await page.getByLabel('Username').fill('newbie');
    await page.getByLabel('Email').fill('grace@demo.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('An account with this email already exists.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'email', 'focus on the field in error, not the first field');
    assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'sign-up page with an error', '73-signup-error');

    await page.goto(`${facet.baseUrl}/t/demo/account/sign-in/recovery`);
    // (grace's sign-in budget was spent by the 429 test; the answer is the same for any username.)
    await page.getByLabel('Username').fill('someone-else');
    await page.getByLabel('Recovery code').fill('AAAA-BBBB-CCCC-DDDD');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That username and code do not match an unused recovery code.').waitFor();
    const main = (await page.locator('main').textContent())!;
    assert.equal(main.split('That username and code do not match').length - 1, 1, 'the error is said once');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code');
    await assertAccessible(page, 'recovery page with an error', '74-recovery-error');
  });

  test('branding: the tenant colour on buttons and links (light and dark), the tenant on error, expired and 404 pages, a skip link, a favicon', async () => {
    const { page } = tab;
    await page.goto(`${facet.baseUrl}/t/demo/account/sign-in`);
    assert.equal(await page.locator('#passkey-button').evaluate((b) => getComputedStyle(b).backgroundColor), rgb(BRAND), 'buttons in the tenant colour');
    const link = page.getByRole('link', { name: 'Create an account' });
    assert.equal(await link.evaluate((a) => getComputedStyle(a).color), rgb(BRAND), 'links in the tenant colour');
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.equal(await link.evaluate((a) => getComputedStyle(a).color), rgb(darkModeShade(BRAND)), 'a lighter shade on a dark page');
    await assertAccessible(page, 'sign-in page in dark mode', '70-brand-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await page.locator('link[rel=icon]').getAttribute('href'), '/assets/favicon.svg');
    assert.equal((await fetch(`${facet.baseUrl}/assets/favicon.svg`)).headers.get('content-type'), 'image/svg+xml');
    // The skip link: first in the tab order, shown on focus, leads to the main content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLAnchorElement).getAttribute('href')), '#main');

    // An unknown path under the tenant: its own 404 page, in HTML for a browser, problem+json for an API.
    const missing = (await page.goto(`${facet.baseUrl}/t/demo/does-not-exist`))!;
    assert.equal(missing.status(), 404);
    assert.match(missing.headers()['content-type']!, /text\/html/);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    assert.equal((await page.locator('header.brand').textContent())!.trim(), 'Demo Organisation');
    assert.equal(await page.locator('link[href="/t/demo/brand.css"]').count(), 1);
    assert.equal(await page.locator('h1').evaluate((h) => getComputedStyle(h).color) !== '', true);
    await assertAccessible(page, 'tenant 404 page', '71-tenant-404');
    const api = await fetch(`${facet.baseUrl}/t/demo/does-not-exist`, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 404);
    assert.match(api.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal((await fetch(`${facet.baseUrl}/t/demo/.well-known/openid-configuration`)).status, 200, 'provider paths still answer');

    // `/` is a small landing page in a browser, JSON for API callers.
    await page.goto(`${facet.baseUrl}/`);
    await page.getByRole('heading', { name: 'Facet sign-in service' }).waitFor();
    await assertAccessible(page, 'landing page', '75-landing');
    assert.equal(((await (await fetch(`${facet.baseUrl}/`, { headers: { accept: 'application/json' } })).json()) as { service: string }).service, 'facet');

    // An expired (or made-up) interaction keeps the tenant's name and colours.
    const expired = (await page.goto(`${facet.baseUrl}/t/demo/interaction/no-such-interaction`))!;
    assert.equal(expired.status(), 400);
    await page.getByText('This sign-in request has expired').waitFor();
    assert.equal((await page.locator('header.brand').textContent())!.trim(), 'Demo Organisation');
    assert.equal(await page.locator('link[href="/t/demo/brand.css"]').count(), 1);
    await assertAccessible(page, 'expired interaction page', '72-expired');
  });

  test('the pages ran their scripts under the CSP without violations', () => {
    assert.deepEqual(cspViolations, []);
  });
});
