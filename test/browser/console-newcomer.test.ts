// The console's first minute as one journey in Chromium (issue 12, "Tests"): a newcomer follows the
// development start banner's single-use first-admin link (the link `npm start` prints, made by
// src/console/first-admin.ts), signs up with a passkey (virtual authenticator) and so becomes demo's
// admin, adds an authenticator app on the real account page, opens the console: the overview with
// a chart; finds a user and locks then unlocks them using the keyboard only (Tab, Enter, Escape;
// the secret and key rotations below are by keyboard too); creates an application — the console demands a step-up, Facet's own pages ask for the app's code
// (otplib), and the console offers the creation again — sees its secret once and rotates it (the
// old secret refused at the token endpoint); rotates the signing keys within the same fresh
// step-up; sets the primary colour and sees it on a visitor's sign-in page. No CSP violation.
// Screenshots: test-artifacts/passkey/console-newcomer-*.png. Runs on embedded PGlite, the default
// a newcomer's `npm start` uses (test/browser/console.test.ts covers the console on real PostgreSQL
// when DATABASE_URL is set, with axe at 1280 and 390 px in light and dark mode on every page).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { firstAdminLink } from '../../src/console/first-admin.ts';
import { addAuthenticatorApp, consoleTab, signUpWithPasskey, throughFacet, type AuthenticatorApp } from '../support/console-browser.ts';
import { eventually } from '../support/eventually.ts';
import { introspectAs } from '../support/introspection.ts';
import { launchBrowser, screenshot, type AuthenticatorPage } from './support.ts';

describe('the console for a newcomer, in Chromium', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let browser: Browser;
  let tab: AuthenticatorPage;
  let targetId: string;
  let app: AuthenticatorApp;
  const cspViolations: string[] = [];

  before(async () => {
    facet = await startTestFacet({ database: 'pglite' });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    targetId = await withTenant(facet.database.db, demo, async (trx) => {
      await createUser(trx, { username: 'zack-other', email: 'zack@demo.example' });
      return (await createUser(trx, { username: 'zoe-target', email: 'zoe@demo.example', displayName: 'Zoe Target' })).id;
    });
    browser = await launchBrowser();
    tab = await consoleTab(browser, facet.baseUrl, {
      onConsoleMessage: (text) => {
        if (/Content Security Policy/i.test(text)) cspViolations.push(text);
      },
    });
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  const shot = (page: Page, name: string) => screenshot(page, `console-newcomer-${name}`);

  /** Presses Tab until the focused element is the control with this role and name, then returns. */
  async function tabTo(page: Page, role: 'link' | 'button' | 'searchbox', name: string): Promise<void> {
    for (let i = 0; i < 60; i += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el) return { tag: '', text: '', type: '' };
        return { tag: el.tagName.toLowerCase(), text: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim(), type: el.getAttribute('type') ?? '' };
      });
      const isRole = role === 'link' ? focused.tag === 'a' : role === 'button' ? focused.tag === 'button' : focused.tag === 'input' && focused.type === 'search';
      if (isRole && (role === 'searchbox' || focused.text === name)) return;
    }
    assert.fail(`Tab never reached the ${role} "${name}"`);
  }

  const userStatus = () => withTenant(facet.database.db, demo, (trx) => trx.selectFrom('users').select('status').where('id', '=', targetId).executeTakeFirstOrThrow()).then((r) => r.status);

  test('banner link → passkey sign-up as admin → overview → lock/unlock → client with step-up → keys → branding', async () => {
    const { page } = tab;

    // 1. The start banner's link (development only; demo has no admin yet).
    const link = await firstAdminLink(facet.database.db, facet.config);
    assert.ok(link?.startsWith(`${facet.baseUrl}/t/demo/account/sign-in/signup?invite=`), `a first-admin link: ${link}`);
    await signUpWithPasskey(page, link!, { username: 'newcomer', email: 'newcomer@anywhere.example', onFilled: () => shot(page, '01-sign-up') });
    const roles = await withTenant(facet.database.db, demo, (trx) =>
      trx.selectFrom('admin_roles').innerJoin('users', 'users.id', 'admin_roles.user_id').select(['users.username', 'admin_roles.role', 'admin_roles.source']).execute(),
    );
    assert.deepEqual(roles, [{ username: 'newcomer', role: 'admin', source: 'invite' }]);
    assert.equal(await firstAdminLink(facet.database.db, facet.config), undefined, 'no second link once demo has an admin');

    // 2. The authenticator app, added on the real account page (the admin acr is passkey+otp).
    app = await addAuthenticatorApp(page);
    await shot(page, '02-account-app-added');

    // 3. The console, signed in through the tenant's own OIDC: the overview with a chart.
    await page.goto(`${facet.baseUrl}/t/demo/console`);
    await throughFacet(page, { app });
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.locator('#chart-auth canvas').waitFor();
    const box = (await page.locator('#chart-auth canvas').boundingBox())!;
    assert.ok(box.width > 200 && box.height > 100, `the chart is drawn (${box.width}x${box.height})`);
    await shot(page, '03-overview');

    // 4. Find a user and lock, then unlock them — with the keyboard only.
    await tabTo(page, 'link', 'Users');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'console-main', 'navigation moves the focus to the content');
    await page.getByRole('link', { name: 'zack-other' }).waitFor();
    await tabTo(page, 'searchbox', '');
    await page.keyboard.type('zoe');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'zack-other' }).waitFor({ state: 'detached' });
    await tabTo(page, 'link', 'zoe-target');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'zoe-target' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/t/demo/console/users/${targetId}`);
    await tabTo(page, 'button', 'Lock account');
    await page.keyboard.press('Enter');
    const lockDialog = page.getByRole('dialog', { name: "Lock zoe-target's account?" });
    await lockDialog.waitFor();
    await shot(page, '04-confirm-lock');
    // It is described by what will happen, not only labelled.
    assert.match((await lockDialog.getAttribute('aria-describedby')) ?? '', /confirm-body/);
    // Escape closes the confirmation and nothing happens.
    await page.keyboard.press('Escape');
    await lockDialog.waitFor({ state: 'hidden' });
    assert.equal(await userStatus(), 'active');
    // The focus is back on the button that opened it (the shared Dialog, ui/components/dialog.tsx).
    assert.equal(await page.evaluate(() => (document.activeElement?.closest('dialog') ? 'in the dialog' : `${document.activeElement?.tagName} ${document.activeElement?.textContent?.trim()}`)), 'BUTTON Lock account');
    await page.keyboard.press('Enter');
    await lockDialog.waitFor();
    // The modal's first control, its confirm button, has the focus.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Lock account');
    await page.keyboard.press('Enter');
    await page.getByText('Account locked.').waitFor();
    await page.locator('dl.facts').getByText('locked', { exact: true }).waitFor();
    assert.equal(await userStatus(), 'locked');
    await shot(page, '05-user-locked');
    await tabTo(page, 'button', 'Unlock');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Unlock zoe-target?' }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByText('Unlocked.').waitFor();
    await page.locator('dl.facts').getByText('active', { exact: true }).waitFor();
    assert.equal(await userStatus(), 'active');
    const newcomerId = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('users').select('id').where('username', '=', 'newcomer').executeTakeFirstOrThrow()).then((r) => r.id);
    const lockEvents = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select(['type', 'actor']).where('subject', '=', targetId).orderBy('id').execute());
    assert.ok(lockEvents.length >= 2, `lock and unlock audited: ${lockEvents.map((e) => e.type).join(', ')}`);
    assert.deepEqual(lockEvents.map((e) => e.actor), lockEvents.map(() => newcomerId), 'the newcomer is the actor');
    await shot(page, '06-user-unlocked');

    // 5. A new application: sensitive, so a step-up with the authenticator app, then the creation is offered again.
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('link', { name: 'New application' }).click();
    await page.getByRole('heading', { name: 'New application' }).waitFor();
    await page.getByLabel('Client id (optional)').fill('newcomer-app');
    await page.getByLabel('Name', { exact: true }).fill('Newcomer app');
    await page.getByLabel('Redirect URIs', { exact: true }).fill('https://app.example/callback');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/t/demo/console/clients'));
    let askedForCode = false;
    await throughFacet(page, {
      app,
      onAppCode: async () => {
        askedForCode = true;
        await shot(page, '07-step-up-app-code');
      },
    });
    assert.ok(askedForCode, "Facet's step-up asked for the authenticator app's code");
    const createDialog = page.getByRole('dialog', { name: 'Create the application “Newcomer app”?' });
    await createDialog.waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/clients/new');
    await createDialog.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('heading', { name: 'Newcomer app' }).waitFor();
    const first = (await page.locator('#client-secret').textContent())!.trim();
    assert.match(first, /^[A-Za-z0-9_-]{43}$/);
    await eventually('the new secret authenticates', async () => (await introspectAs(facet.baseUrl, 'newcomer-app', first)) === 200);
    await shot(page, '08-client-created');
    // The rotation, and the key rotation below, by keyboard again.
    await tabTo(page, 'button', 'Rotate secret');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Rotate the secret of Newcomer app?' }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByText('A new secret was made; the old one no longer works.').waitFor();
    const second = (await page.locator('#client-secret').textContent())!.trim();
    assert.notEqual(second, first);
    await eventually('the old secret is refused', async () => (await introspectAs(facet.baseUrl, 'newcomer-app', first)) === 401);
    assert.equal(await introspectAs(facet.baseUrl, 'newcomer-app', second), 200);
    await shot(page, '09-client-secret-rotated');

    // 6. Signing keys, within the same fresh step-up (no second one).
    await tabTo(page, 'link', 'Keys');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
    await page.locator('tbody tr').first().waitFor();
    const keysBefore = await page.locator('tbody tr').count();
    await tabTo(page, 'button', 'Rotate keys');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Rotate the signing keys?' }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByText(/Rotated: new keys/).waitFor();
    await page.locator('tbody tr').nth(keysBefore + 1).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/keys', 'no second step-up within 5 minutes');
    await shot(page, '10-keys-rotated');

    // 7. The primary colour, seen on a visitor's sign-in page.
    await page.getByRole('link', { name: 'Branding' }).click();
    await page.getByRole('heading', { name: 'Branding', exact: true }).waitFor();
    await page.getByLabel('Primary colour (#rrggbb, optional)').fill('#1f4e79');
    await page.locator('#brand-contrast').getByText(/readable\.$/).waitFor();
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.getByText('Branding saved.').waitFor();
    await shot(page, '11-branding');
    const visitor = await browser.newContext();
    try {
      const signIn = await visitor.newPage();
      await signIn.goto(`${facet.baseUrl}/t/demo/account/sign-in`);
      const button = signIn.locator('#passkey-button');
      await button.waitFor();
      assert.equal(await button.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(31, 78, 121)');
      await shot(signIn, '12-sign-in-branded');
    } finally {
      await visitor.close();
    }

    const audit = await withTenant(facet.database.db, demo, (trx) =>
      trx
        .selectFrom('audit_events')
        .select('type')
        .where((eb) => eb.or([eb('client_id', '=', 'newcomer-app'), eb('type', 'in', ['keys.rotated', 'tenant.branding_changed'])]))
        .orderBy('id')
        .execute(),
    );
    assert.deepEqual(audit.map((e) => e.type), ['client.created', 'client.secret_rotated', 'keys.rotated', 'tenant.branding_changed']);
    assert.deepEqual(cspViolations, [], 'no CSP violation');
  });
});
