// Issue 11 in Chromium: a refused step in a page script shows the server's own message whatever
// the status. A CSRF 403 (problem+json) used to show a generic message: its detail is shown now.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { en } from '../../views/strings/en.ts';
import { installAutofillSwitch, launchBrowser, pageWithAuthenticator, setAutofill } from './support.ts';

describe('page scripts show the server’s message for every error status', () => {
  let facet: TestFacet;
  let browser: Browser;

  before(async () => {
    facet = await startTestFacet();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  test('a CSRF 403 on the passkey step shows the problem’s detail', async () => {
    const { context, page } = await pageWithAuthenticator(browser);
    await installAutofillSwitch(context);
    await setAutofill(context, facet.baseUrl, false);
    page.setDefaultTimeout(10_000);
    await page.goto(`${facet.baseUrl}/t/demo/account/sign-in`);
    // The page's token no longer matches its session: the server refuses with 403 csrf_failed.
    await page.evaluate(() => {
      document.querySelector<HTMLElement>('[data-page="sign-in"]')!.dataset.csrf = 'forged-token';
    });
    const refused = page.waitForResponse((response) => response.url().endsWith('/passkey/options'));
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const response = await refused;
    assert.equal(response.status(), 403);
    assert.equal(response.headers()['content-type'], 'application/problem+json');
    const status = page.locator('#status');
    await status.filter({ hasText: /\S/ }).waitFor();
    assert.equal((await status.textContent())!.trim(), en.errors.csrf);
    await context.close();
  });
});
