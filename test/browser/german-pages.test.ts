// Issue 18, languages in Chromium: a browser that prefers German gets every page of a sign-up in
// German (html lang="de"), and those pages — with their longer words — pass axe (WCAG 2 A/AA) in
// light and dark mode and need no horizontal scrolling at phone width (390 px). Screenshots in
// test-artifacts/passkey/60-de-*.png.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { LANGUAGES } from '../../views/strings/index.ts';
import { launchBrowser, pageWithAuthenticator, screenshot, axeViolations } from './support.ts';

const de = LANGUAGES.de.strings;

async function checkPage(page: Page, what: string, shot: string): Promise<void> {
  assert.equal(await page.locator('html').getAttribute('lang'), 'de', `${what} is marked German`);
  for (const [name, width, height, scheme] of [
    ['desktop', 1280, 800, 'light'],
    ['phone', 390, 844, 'light'],
    ['phone-dark', 390, 844, 'dark'],
  ] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width, height });
    const result = { violations: await axeViolations(page) };
    assert.deepEqual(result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.html).join(' | ')}`), [], `${what}: axe at ${name}`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${what}: no horizontal scrolling at ${name}`);
    await screenshot(page, `60-de-${shot}-${name}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('the pages in German (Chromium)', () => {
  let facet: TestFacet;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    facet = await startTestFacet();
    browser = await launchBrowser();
    ({ context, page } = await pageWithAuthenticator(browser, { context: { locale: 'de-DE' } }));
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  test('sign-in, sign-up with a passkey, recovery codes and the account page, all in German', async () => {
    assert.match(await page.evaluate(() => navigator.language), /^de/);
    await page.goto(`${facet.baseUrl}/t/demo/account`);
    await page.getByRole('button', { name: de.signIn.passkeyButton }).waitFor();
    await checkPage(page, 'sign-in page', 'sign-in');

    await page.getByRole('link', { name: de.signIn.signUpLink }).click();
    await page.getByLabel(de.signUp.usernameLabel).waitFor();
    await checkPage(page, 'sign-up page', 'sign-up');
    await page.getByLabel(de.signUp.usernameLabel).fill('jürgen');
    await page.getByRole('button', { name: de.signUp.submit }).click();
    // A field in error, in German.
    await page.getByText(de.signUp.usernameInvalid).waitFor();
    await checkPage(page, 'sign-up page with an error', 'sign-up-error');
    await page.getByLabel(de.signUp.usernameLabel).fill('juergen');
    await page.getByLabel(de.signUp.emailLabel).fill('juergen@demo.example');
    await page.getByRole('button', { name: de.signUp.submit }).click();

    await page.getByRole('heading', { name: de.createPasskey.heading }).waitFor();
    await checkPage(page, 'create-passkey page', 'create-passkey');
    await page.getByRole('button', { name: de.createPasskey.button }).click();

    await page.getByRole('heading', { name: de.recoveryCodes.heading }).waitFor();
    await checkPage(page, 'recovery codes page', 'recovery-codes');
    await page.getByRole('button', { name: de.recoveryCodes.confirm }).click();

    await page.getByRole('heading', { name: de.account.heading, exact: true }).waitFor();
    const main = (await page.locator('main').textContent())!;
    assert.ok(main.includes('Noch 10 unbenutzte Wiederherstellungscodes.'), 'the plural in German');
    await checkPage(page, 'account page', 'account');

    // The switcher back to English keeps the session and shows the same page in English.
    await page.getByRole('navigation', { name: de.common.language }).getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.ok((await context.cookies()).some((c) => c.name === 'facet_lang' && c.value === 'en'));
  });
});
