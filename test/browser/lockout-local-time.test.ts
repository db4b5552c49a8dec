// Issue 18: the TOTP lockout says until when in the reader's own time zone. Chromium runs in
// Asia/Kolkata (UTC+05:30, so the minutes differ from UTC's too); the server writes the time in
// UTC inside <time datetime data-local="time">, and public/scripts/local-time.ts rewrites it.
// One error only (the lock), not a second "wrong code" next to it. Screenshot in
// test-artifacts/passkey/57-otp-lockout-local-time.png; then the language switcher gives the same
// page in German, with the time in German style (57b-…-de.png).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findLiveUserByUsername } from '../../src/accounts/users.ts';
import { createTotpStore } from '../../src/factors/totp/store.ts';
import { factorSecretBox } from '../../src/interaction/step-up.ts';
import { launchBrowser, pageWithAuthenticator, screenshot } from './support.ts';

const TIME_ZONE = 'Asia/Kolkata';

describe('TOTP lockout in the reader’s time zone (Chromium)', () => {
  let facet: TestFacet;
  let browser: Browser;
  let page: Page;

  before(async () => {
    facet = await startTestFacet();
    browser = await launchBrowser();
    ({ page } = await pageWithAuthenticator(browser, { context: { timezoneId: TIME_ZONE, locale: 'en-US' } }));
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  test('the lock notice shows the end of the lock in local time, and nothing else', async () => {
    assert.equal(await page.evaluate(() => new Date().getTimezoneOffset()), -330, 'the browser runs at UTC+05:30');
    // A user with a passkey (made in this browser) and an authenticator app on file.
    await page.goto(`${facet.baseUrl}/t/demo/account`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('kavya');
    await page.getByLabel('Email').fill('kavya@demo.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.getByRole('button', { name: 'I have saved my codes' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    // An authenticator app whose factor is locked for a while (too many wrong codes earlier).
    const until = new Date(Date.now() + 7 * 60_000);
    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    await withTenant(facet.database.db, tenant, async (trx) => {
      const user = (await findLiveUserByUsername(trx, 'kavya'))!;
      assert.ok(await createTotpStore(factorSecretBox(facet.services)).startEnrollment(trx, { userId: user.id, secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }));
      await trx.updateTable('totp_factors').set({ confirmed_at: new Date() }).where('user_id', '=', user.id).execute();
      await trx.insertInto('factor_lockouts').values({ user_id: user.id, factor: 'otp', failures: 5, level: 1, locked_until: until }).execute();
    });

    const rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    const start = client.buildAuthorizationUrl(rp, {
      redirect_uri: 'http://localhost:3001/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      acr_values: 'urn:facet:acr:passkey+otp',
    });
    await page.goto(start.href);
    // The sign-in page also offers the passkey through autofill (conditional mediation), which the
    // virtual authenticator may answer by itself before the click lands: either way leads on to the
    // app-code step, so the click is allowed to find the page already gone.
    const codeStep = page.getByRole('heading', { name: 'Enter the code from your authenticator app' });
    await Promise.race([codeStep.waitFor(), page.getByRole('button', { name: 'Sign in with a passkey' }).click({ timeout: 10_000 }).catch(() => {})]);
    await codeStep.waitFor();
    await page.getByLabel('Code').fill('123456');
    await page.getByRole('button', { name: 'Confirm' }).click();

    const time = page.locator('#status time[data-local="time"]');
    await time.waitFor({ timeout: 10_000 }).catch(async (error) => {
      await screenshot(page, '57-otp-lockout-failed');
      throw new Error(`${error.message}\n${page.url()}\n${(await page.locator('main').innerText()).slice(0, 1500)}`);
    });
    const datetime = (await time.getAttribute('datetime'))!;
    assert.equal(new Date(datetime).toISOString(), until.toISOString());
    const normalise = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ').trim();
    const shown = normalise((await time.textContent())!);
    const expected = normalise(until.toLocaleTimeString('en', { timeZone: TIME_ZONE, timeStyle: 'short' }));
    assert.equal(shown, expected, 'the lock’s end in Asia/Kolkata');
    assert.doesNotMatch(shown, /UTC/);
    const utc = until.toISOString().slice(11, 16);
    assert.ok(!shown.includes(utc), `not the UTC wall-clock time ${utc}`);
    assert.equal(await time.getAttribute('title'), until.toISOString(), 'the exact moment on hover');
    const status = normalise((await page.locator('#status').textContent())!);
    assert.match(status, /^Too many wrong attempts\. You can try again in \d+ min, after .+\.$/);

    // One error: the lock, not also a "wrong code" under the field.
    assert.equal(await page.locator('#code-error').count(), 0);
    assert.equal(await page.locator('[role=alert]:not(:empty)').count(), 1);
    await screenshot(page, '57-otp-lockout-local-time');

    // The language switcher under the page: the same refusal in German, the time in German style.
    await page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: 'Deutsch' }).click();
    await page.getByRole('heading', { name: 'Geben Sie den Code aus Ihrer Authenticator-App ein' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    await page.getByLabel('Code').fill('123456');
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.locator('#status time[data-local="time"]').waitFor();
    const german = normalise((await page.locator('#status').textContent())!);
    const germanTime = normalise(until.toLocaleTimeString('de', { timeZone: TIME_ZONE, timeStyle: 'short' }));
    assert.match(german, /^Zu viele falsche Versuche\. Sie können es in \d+ Min\. wieder versuchen, ab (.+)\.$/);
    assert.ok(german.includes(germanTime), `${german} shows ${germanTime}`);
    await screenshot(page, '57b-otp-lockout-local-time-de');
  });
});
