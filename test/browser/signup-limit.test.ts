// Issue 14 item 4 in Chromium: the documented sign-up limit is the real one (ten registrations an
// hour from one address; one registration spends one point), and a refused step shows the
// server's own message, on the form's page and in the page script (never "Something went wrong").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { DEFAULT_LIMITS } from '../../src/ratelimit/policies.ts';
import { installAutofillSwitch, launchBrowser, pageWithAuthenticator, screenshot, setAutofill } from './support.ts';

const SIGNUPS = DEFAULT_LIMITS['signup.ip'].points;

describe('sign-up rate limit in Chromium', () => {
  let facet: TestFacet;
  let browser: Browser;

  before(async () => {
    // signup.ip as shipped; each registration's passkey ceremony (options + verify) is sign-in
    // volume, limited here to exactly what ten registrations use.
    facet = await startTestFacet({
      env: { FACET_RATE_LIMITS: JSON.stringify({ 'signin.ip': { points: 2 * SIGNUPS, duration: 3600 }, 'token.ip': { points: 100000 }, 'stepup.ip': { points: 100000 } }) },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  async function freshTab() {
    const tab = await pageWithAuthenticator(browser);
    await installAutofillSwitch(tab.context);
    await setAutofill(tab.context, facet.baseUrl, false);
    tab.page.setDefaultTimeout(10_000);
    return tab;
  }

  async function startSignUp(page: Awaited<ReturnType<typeof freshTab>>['page'], n: number) {
    await page.goto(`${facet.baseUrl}/t/demo/account`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill(`office-${n}`);
    await page.getByLabel('Email').fill(`office-${n}@demo.example`);
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  test(`${SIGNUPS} registrations from one address succeed; the next is refused with the server's message`, async () => {
    for (let n = 1; n <= SIGNUPS; n += 1) {
      const { context, page } = await freshTab();
      await startSignUp(page, n);
      await page.getByRole('button', { name: 'Create a passkey' }).click();
      await page.getByRole('button', { name: 'I have saved my codes' }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      await context.close();
    }

    const { context, page } = await freshTab();
    await startSignUp(page, SIGNUPS + 1);
    await page.getByRole('heading', { name: 'Too many attempts' }).waitFor();
    assert.match((await page.locator('main').textContent())!, /Too many attempts from your network\. Try again in \d+ seconds\./);
    await screenshot(page, '40-signup-limit');
    await context.close();
  });

  test('a refused step in the page script shows the 429 body’s message', async () => {
    // Spend what is left of this address's sign-in volume (the ten ceremonies above used most of
    // it), so the passkey button's first request is refused.
    let refused = false;
    for (let i = 0; i <= 2 * SIGNUPS && !refused; i += 1) {
      const response = await fetch(`${facet.baseUrl}/t/demo/account/sign-in/passkey/options`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{}' });
      refused = response.status === 429;
    }
    assert.ok(refused, 'the sign-in volume limit answers 429');
    const { context, page } = await freshTab();
    await page.goto(`${facet.baseUrl}/t/demo/account/sign-in`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const status = page.locator('#status');
    await status.filter({ hasText: /\S/ }).waitFor();
    const text = (await status.textContent())!;
    assert.match(text, /Too many attempts from your network\. Try again in \d+ seconds\./);
    assert.doesNotMatch(text, /Something went wrong/);
    await context.close();
  });
});
