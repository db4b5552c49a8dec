// The hosted console in Chromium (issue 12), against real PostgreSQL when DATABASE_URL is set: a
// newcomer follows a role-carrying invite (admin), signs up with a passkey (virtual authenticator),
// signs in to the console through the tenant's own OIDC, searches a user, signs them out; a
// sensitive action (deleting the user) demands a step-up: without an authenticator app the admin is
// told how to enrol one; with it, Facet's own step-up asks for the app code and the console offers
// the action again. No CSP violation, axe finds nothing at 1280 and 390 px in light and dark mode.
// Screenshots: test-artifacts/passkey/console-*.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { createInvite } from '../../src/accounts/invites.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { addAuthenticatorApp, consoleTab, signUpWithPasskey, throughFacet, type AuthenticatorApp } from '../support/console-browser.ts';
import { eventually } from '../support/eventually.ts';
import { introspectAs } from '../support/introspection.ts';
import { ARTIFACTS, launchBrowser, screenshot, type AuthenticatorPage, axeViolations } from './support.ts';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

async function assertAccessible(page: Page, what: string, shot: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      const result = { violations: await axeViolations(page) };
      assert.deepEqual(
        result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.html).join(' | ')}`),
        [],
        `${what} passes axe at ${viewport.name} width, ${scheme}`,
      );
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${what}: no horizontal scrolling at ${viewport.name} width`);
      await screenshot(page, `console-${shot}-${viewport.name}-${scheme}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('hosted console in Chromium', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let browser: Browser;
  let tab: AuthenticatorPage;
  let targetId: string;
  let app: AuthenticatorApp | undefined;
  const cspViolations: string[] = [];
  const openConsoleTab = () =>
    consoleTab(browser, facet.baseUrl, {
      onConsoleMessage: (text) => {
        if (/Content Security Policy/i.test(text)) cspViolations.push(text);
      },
    });

  before(async () => {
    facet = await startTestFacet();
    demo = (await findTenant(facet.database.db, 'demo'))!;
    await withTenant(facet.database.db, demo, async (trx) => {
      targetId = (await createUser(trx, { username: 'zoe-target', email: 'zoe@demo.example', displayName: 'Zoe Target' })).id;
      await createUser(trx, { username: 'zack-other', email: 'zack@demo.example' });
    });
    browser = await launchBrowser();
    tab = await openConsoleTab();
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  const console_ = () => `${facet.baseUrl}/t/demo/console`;

  test('a role-carrying invite makes the next passkey sign-up an admin; the console signs in through OIDC', async () => {
    const { page } = tab;
    const invite = await withTenant(facet.database.db, demo, (trx) => createInvite(trx, { slug: 'demo', email: 'root@demo.example', key: facet.config.cookieKeys[0]!, role: 'admin' }));
    await signUpWithPasskey(page, `${facet.baseUrl}/t/demo/account/sign-in/signup?invite=${invite.token}`, { username: 'root-admin', email: 'root@demo.example' });
    const roles = await withTenant(facet.database.db, demo, (trx) =>
      trx.selectFrom('admin_roles').innerJoin('users', 'users.id', 'admin_roles.user_id').select(['users.username', 'admin_roles.role', 'admin_roles.source']).execute(),
    );
    assert.deepEqual(roles, [{ username: 'root-admin', role: 'admin', source: 'invite' }]);

    await page.goto(console_());
    assert.match(new URL(page.url()).pathname, /\/t\/demo\/interaction\//, 'the console sends the browser to the tenant sign-in');
    await throughFacet(page, { app });
    // An admin's front page: the overview, with its charts (uPlot canvases) and their numbers.
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/overview');
    // One passkey ceremony for the one sign-in (autofill is off in this tab): none refused on the way.
    const passkeySignIns = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select('type').where('type', 'like', 'passkey.sign_in%').orderBy('id').execute());
    assert.deepEqual(passkeySignIns.map((e) => e.type), ['passkey.sign_in']);
    await page.locator('#chart-auth canvas').waitFor();
    const box = (await page.locator('#chart-auth canvas').boundingBox())!;
    assert.ok(box.width > 200 && box.height > 100, `the chart is drawn (${box.width}x${box.height})`);
    await page.getByText('Sign-ups', { exact: true }).first().waitFor();
    const signUps = page.getByRole('figure', { name: 'Sign-ups, failed attempts, lockouts and refresh-token reuse' });
    await signUps.getByText('The numbers, by day').click();
    const today = new Date().toISOString().slice(0, 10);
    // This admin's own sign-up, a moment ago, in today's row.
    assert.equal(await signUps.locator('tbody tr').last().locator('th').textContent(), today);
    assert.equal(await signUps.locator('tbody tr').last().locator('td').first().textContent(), '1');
    await assertAccessible(page, 'overview page', 'overview');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/users');
    const cookies = await tab.context.cookies();
    const session = cookies.find((c) => c.name === 'facet_console')!;
    assert.ok(session, 'the console session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/t/demo/console');
    assert.equal(await page.evaluate(() => document.cookie.includes('facet_console')), false, 'scripts cannot read it');
  });

  test('search a user, open their page, sign them out everywhere (with a confirmation)', async () => {
    const { page } = tab;
    await page.getByLabel('Search by username, email or id').fill('zoe');
    await page.getByRole('button', { name: 'Search' }).click();
    // The search runs on the server: zack-other (listed before) leaves the table.
    await page.getByRole('link', { name: 'zack-other' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'zoe-target' }).waitFor();
    await assertAccessible(page, 'users page', 'users');
    await page.getByRole('link', { name: 'zoe-target' }).click();
    await page.getByRole('heading', { name: 'zoe-target' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/t/demo/console/users/${targetId}`);

    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign zoe-target out everywhere?' });
    await dialog.waitFor();
    await screenshot(page, 'console-confirm-sign-out');
    await dialog.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByText(/Signed out: \d+ session\(s\)/).waitFor();
    const events = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select(['type', 'actor']).where('subject', '=', targetId).execute());
    assert.ok(events.some((e) => e.type === 'account.signed_out_everywhere'));

    // Edit the profile: an email address another account has is refused next to the field.
    await page.getByText('Edit profile').click();
    await page.getByLabel('Email address').fill('zack@demo.example');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.locator('#profile-email-error').getByText('Another account of this tenant has that email address.').waitFor();
    assert.equal(await page.getByLabel('Email address').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Email address').fill('zoe.new@demo.example');
    await page.getByLabel('Display name').fill('Zoe New');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Profile saved.').waitFor();
    await page.getByText('zoe.new@demo.example (not verified)').waitFor();
    await assertAccessible(page, 'user page', 'user');
  });

  test('a sensitive action demands a step-up: without an app the admin is told how to enrol one', async () => {
    const { page } = tab;
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('dialog', { name: 'Delete zoe-target?' }).getByRole('button', { name: 'Delete user' }).click();
    // Facet's own step-up: an authorization request for the admin acr; this account cannot give it.
    await page.waitForURL((u) => !u.pathname.startsWith('/t/demo/console/users'));
    for (let i = 0; i < 4 && !(await page.getByRole('heading', { name: 'A stronger sign-in is needed' }).count()); i += 1) {
      const back = page.getByRole('button', { name: /^Back to / });
      if (await back.count()) await Promise.all([page.waitForNavigation(), back.click()]);
      else await page.waitForLoadState('load');
    }
    await page.getByRole('heading', { name: 'A stronger sign-in is needed' }).waitFor();
    assert.match((await page.locator('main').textContent())!, /urn:facet:acr:passkey\+otp/);
    assert.equal(await page.getByRole('link', { name: 'Open your account page' }).count(), 1);
    await screenshot(page, 'console-step-up-unavailable');
    const deleted = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('users').select('deleted_at').where('id', '=', targetId).executeTakeFirstOrThrow());
    assert.equal(deleted.deleted_at, null, 'nothing was deleted');
  });

  test('with an authenticator app the step-up asks for its code, and the console offers the action again', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Open your account page' }).click();
    if (new URL(page.url()).pathname.endsWith('/sign-in')) {
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
    }
    app = await addAuthenticatorApp(page);

    await page.goto(`${console_()}/users/${targetId}`);
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('dialog', { name: 'Delete zoe-target?' }).getByRole('button', { name: 'Delete user' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/t/demo/console/users'));
    await throughFacet(page, { app });
    // Back on the user's page, stepped up: the same action is offered again, with its confirmation.
    const dialog = page.getByRole('dialog', { name: 'Delete zoe-target?' });
    await dialog.waitFor();
    assert.equal(new URL(page.url()).pathname, `/t/demo/console/users/${targetId}`);
    await page.getByText('You confirmed it is you.').waitFor();
    await screenshot(page, 'console-after-step-up');
    await dialog.getByRole('button', { name: 'Delete user' }).click();
    await page.getByText('Deleted. It can be restored').waitFor();
    const row = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('users').select('deleted_at').where('id', '=', targetId).executeTakeFirstOrThrow());
    assert.ok(row.deleted_at, 'deleted');
    const signIns = await withTenant(facet.database.db, demo, (trx) =>
      trx.selectFrom('audit_events').select(['data']).where('type', '=', 'console.signed_in').orderBy('id').execute(),
    );
    assert.deepEqual(
      signIns.map((e) => (e.data as { acr: string; step_up: boolean }).step_up),
      [false, true],
    );
    assert.equal((signIns[1]!.data as { acr: string }).acr, 'urn:facet:acr:passkey+otp');
    await page.getByRole('link', { name: 'Admins' }).click();
    await page.getByRole('heading', { name: 'Admins' }).waitFor();
    await assertAccessible(page, 'admins page', 'admins');
  });

  test('signing keys rotate while the step-up is fresh; applications from the tenant file are read-only', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
    await page.locator('tbody tr').first().waitFor();
    const before = await page.locator('tbody tr').count();
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    await page.getByRole('dialog', { name: 'Rotate the signing keys?' }).getByRole('button', { name: 'Rotate keys' }).click();
    await page.getByText(/Rotated: new keys/).waitFor();
    await page.locator('tbody tr').nth(before + 1).waitFor();
    assert.equal(await page.locator('tbody tr').count(), before + 2);
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/keys', 'no second step-up within 5 minutes');
    await assertAccessible(page, 'keys page', 'keys');
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('link', { name: 'Demo web app' }).waitFor();
    assert.match((await page.locator('main').textContent())!, /tenants\/demo\.yaml \(read-only here\)/);
    await assertAccessible(page, 'applications page', 'clients');
    // A tenant-file application: its settings, read-only, and where to change them.
    await page.getByRole('link', { name: 'Demo web app' }).click();
    await page.getByRole('heading', { name: 'Demo web app' }).waitFor();
    assert.match((await page.locator('main').textContent())!, /change tenants\/demo\.yaml and apply it/);
    assert.equal(await page.getByRole('button', { name: 'Rotate secret' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Save changes' }).count(), 0);
  });

  test('an application: bad values are refused beside their fields before any request, then created after a step-up, its secret shown once, then rotated', async () => {
    const { page } = tab;
    // The earlier step-up is no longer fresh: creating an application asks for a new one.
    await withTenant(facet.database.db, demo, (trx) => trx.updateTable('console_sessions').set({ auth_time: new Date(Date.now() - 600_000) }).execute());
    await page.goto(`${console_()}/clients`);
    await page.getByRole('link', { name: 'New application' }).click();
    await page.getByRole('heading', { name: 'New application' }).waitFor();
    // Every admin API call from here on (the form checks with the API's own zod schemas first).
    const apiCalls: string[] = [];
    const countCall = (request: { url: () => string; method: () => string }) => {
      if (new URL(request.url()).pathname.startsWith('/t/demo/console/api/')) apiCalls.push(`${request.method()} ${new URL(request.url()).pathname}`);
    };
    page.on('request', countCall);
    await page.getByLabel('Client id (optional)').fill('orders-portal');
    await page.getByLabel('Name', { exact: true }).fill('Orders portal');
    await page.getByLabel('Redirect URIs', { exact: true }).fill('https://orders.example/callback\njavascript:alert(1)');
    await page.getByLabel('Refresh-token grace (seconds, optional)').fill('90');
    await assertAccessible(page, 'new application page', 'client-new');
    await page.getByRole('button', { name: 'Create application' }).click();
    // Refused here, with the API's messages, in the same place as the server's answer would be.
    await page.locator('#client-redirects-error').getByText(/^Line 2: an http:\/\/ or https:\/\/ URL/).waitFor();
    await page.locator('#client-grace-error').getByText(/60/).waitFor();
    assert.equal(await page.getByLabel('Redirect URIs', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Refresh-token grace (seconds, optional)').getAttribute('aria-describedby'), 'client-grace-error');
    assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), null);
    await page.getByText('Please correct the fields marked below.').waitFor();
    // The keyboard lands on the first field to correct.
    await page.waitForFunction(() => document.activeElement?.id === 'client-redirects');
    await assertAccessible(page, 'application form with errors', 'client-errors');
    assert.deepEqual(apiCalls, [], 'nothing was sent');
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/clients/new', 'no step-up for a body the API would refuse');

    // Leaving a corrected field checks it again: its message goes, the other stays.
    await page.getByLabel('Redirect URIs', { exact: true }).fill('https://orders.example/callback');
    await page.getByLabel('Redirect URIs', { exact: true }).press('Tab');
    await page.locator('#client-redirects-error').waitFor({ state: 'detached' });
    assert.equal(await page.locator('#client-grace-error').count(), 1);
    // A changed field with a bad value is marked when it is left, also before any submit.
    await page.getByLabel('Name', { exact: true }).fill('   ');
    await page.getByLabel('Name', { exact: true }).press('Tab');
    await page.locator('#client-name-error').getByText('give the application a name').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Orders portal');
    await page.getByLabel('Name', { exact: true }).press('Tab');
    await page.locator('#client-name-error').waitFor({ state: 'detached' });
    // private_key_jwt asks for the application's public keys (a URL or the key set itself).
    await page.getByLabel('Authentication at the token endpoint').selectOption('private_key_jwt');
    await page.getByLabel('Key set (JSON)').fill('{"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "secret"}]}');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.locator('#client-jwks-error').getByText('a public key only: remove its private part').waitFor();
    await page.getByLabel('Authentication at the token endpoint').selectOption('client_secret_basic');
    assert.equal(await page.getByLabel('Key set (JSON)').count(), 0);
    assert.deepEqual(apiCalls, [], 'still nothing was sent');
    page.off('request', countCall);

    await page.getByLabel('Refresh-token grace (seconds, optional)').fill('5');
    const stepUps = () => withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select('data').where('type', '=', 'console.signed_in').execute()).then((rows) => rows.filter((r) => (r.data as { step_up: boolean }).step_up).length);
    const stepUpsBefore = await stepUps();
    await page.getByRole('button', { name: 'Create application' }).click();
    // Facet's step-up (it may pass straight through: the tenant session's own step-up is recent).
    await page.waitForURL((u) => !u.pathname.startsWith('/t/demo/console/clients'), { timeout: 3000 }).catch(() => undefined);
    await throughFacet(page, { app });
    // Back, stepped up: the console offers to finish.
    const dialog = page.getByRole('dialog', { name: 'Create the application “Orders portal”?' });
    await dialog.waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/clients/new');
    assert.equal(await stepUps(), stepUpsBefore + 1, 'the console session stepped up again');
    await dialog.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('heading', { name: 'Orders portal' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/clients/orders-portal');
    const first = (await page.locator('#client-secret').textContent())!.trim();
    assert.match(first, /^[A-Za-z0-9_-]{43}$/);
    await eventually('the new secret authenticates', async () => (await introspectAs(facet.baseUrl, 'orders-portal', first)) === 200);
    await assertAccessible(page, 'application page with its secret', 'client-secret');
    // Shown once: a reload of the page no longer has it.
    await page.reload();
    await page.getByRole('heading', { name: 'Orders portal' }).waitFor();
    assert.equal(await page.locator('#client-secret').count(), 0);

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog', { name: 'Rotate the secret of Orders portal?' }).getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText('A new secret was made; the old one no longer works.').waitFor();
    const second = (await page.locator('#client-secret').textContent())!.trim();
    assert.notEqual(second, first);
    await eventually('the old secret is refused', async () => (await introspectAs(facet.baseUrl, 'orders-portal', first)) === 401);
    assert.equal(await introspectAs(facet.baseUrl, 'orders-portal', second), 200);
    await screenshot(page, 'console-client-rotated');
    const events = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select('type').where('client_id', '=', 'orders-portal').orderBy('id').execute());
    assert.deepEqual(events.map((e) => e.type), ['client.created', 'client.secret_rotated']);
  });

  test('policies are shown with their defaults (read-only: the tenant file manages them)', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { name: 'Security policies' }).waitFor();
    assert.match((await page.locator('main').textContent())!, /Managed by .*demo\.yaml/);
    assert.equal(await page.getByLabel('Sign-up', { exact: true }).inputValue(), 'open');
    assert.equal(await page.getByLabel('Sign-up', { exact: true }).isDisabled(), true);
    await page.getByText('0–60; default 10 (10 s).').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save policies' }).count(), 0);
    await assertAccessible(page, 'policies page', 'policies');
  });

  test('branding: an unreadable colour is refused beside the field; a readable one shows on the sign-in page', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Branding' }).click();
    await page.getByRole('heading', { name: 'Branding', exact: true }).waitFor();
    const colour = page.getByLabel('Primary colour (#rrggbb, optional)');
    await colour.fill('#ffd700');
    await page.locator('#brand-contrast').getByText(/^Unreadable: #ffd700 has a contrast of 1\.\d+:1/).waitFor();
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.locator('#brand-color-error').getByText(/contrast of 1\.\d+:1 against white/).waitFor();
    assert.equal(await colour.getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'console-branding-refused');

    await colour.fill('#1f5f3a');
    await page.locator('#brand-contrast').getByText(/readable\.$/).waitFor();
    const previewButton = page.locator('.preview.light .preview-button');
    assert.equal(await previewButton.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(31, 95, 58)', 'the live preview uses the colour');
    await assertAccessible(page, 'branding page', 'branding');
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.getByText('Branding saved.').waitFor();

    // A visitor's sign-in page, in a fresh browser context.
    const visitor = await browser.newContext();
    try {
      const signIn = await visitor.newPage();
      await signIn.goto(`${facet.baseUrl}/t/demo/account/sign-in`);
      const button = signIn.locator('#passkey-button');
      await button.waitFor();
      assert.equal(await button.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(31, 95, 58)');
      await signIn.screenshot({ path: `${ARTIFACTS}/console-branding-sign-in.png`, fullPage: true });
    } finally {
      await visitor.close();
    }
  });

  test('an auditor: the Audit page filters the trail, shows an event as raw JSON, verifies the chain and exports', async () => {
    const auditor = await openConsoleTab();
    const { page } = auditor;
    try {
      const invite = await withTenant(facet.database.db, demo, (trx) => createInvite(trx, { slug: 'demo', email: 'audrey@demo.example', key: facet.config.cookieKeys[0]!, role: 'auditor' }));
      await signUpWithPasskey(page, `${facet.baseUrl}/t/demo/account/sign-in/signup?invite=${invite.token}`, { username: 'audrey', email: 'audrey@demo.example' });
      await page.goto(console_());
      await throughFacet(page);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      // Read-only elsewhere: no way to add an application.
      await page.getByRole('link', { name: 'Applications' }).click();
      await page.getByRole('link', { name: 'Orders portal' }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'New application' }).count(), 0);

      await page.getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit', exact: true }).waitFor();
      await page.locator('.audit-table tbody tr').first().waitFor();
      await page.getByLabel('Event type').fill('client.secret_rotated');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await page.getByText('1 event on this page, newest first.').waitFor();
      await page.locator('.audit-table tbody tr').first().getByRole('button').click();
      await page.getByRole('heading', { name: /^Event \d+: client\.secret_rotated$/ }).waitFor();
      const raw = JSON.parse((await page.locator('pre.raw').textContent())!) as { type: string; client_id: string; hash: string };
      assert.deepEqual([raw.type, raw.client_id], ['client.secret_rotated', 'orders-portal']);
      assert.match(raw.hash, /^[0-9a-f]{64}$/);

      await page.getByRole('button', { name: 'Verify chain' }).click();
      await page.locator('#chain-verdict').getByText(/^The chain holds: \d+ events verified\.$/).waitFor();
      await assertAccessible(page, 'audit page', 'audit');

      // Exports are sensitive: the auditor's session is given a fresh step-up (the step-up itself runs through Facet above).
      await withTenant(facet.database.db, demo, (trx) =>
        trx.updateTable('console_sessions').set({ acr: 'urn:facet:acr:passkey+otp', auth_time: new Date() }).where('user_id', '=', trx.selectFrom('users').select('id').where('username', '=', 'audrey')).execute(),
      );
      await page.getByLabel('With the current filters').uncheck();
      await page.getByRole('button', { name: 'Start export' }).click();
      await page.getByText('Export started (jsonl).').waitFor();
      const download = page.getByRole('link', { name: /^Download / });
      await download.waitFor({ timeout: 30_000 });
      await screenshot(page, 'console-audit-export');
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      const archive = path.join(ARTIFACTS, 'console-audit-export.tar');
      await file.saveAs(archive);
      const verified = spawnSync(process.execPath, ['src/cli/main.ts', 'audit', 'verify', archive, '--json'], { cwd: projectRoot, encoding: 'utf8' });
      assert.equal(verified.status, 0, `facet audit verify accepts the console's download: ${verified.stdout}${verified.stderr}`);
      const exported = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select(['type', 'actor']).where('type', 'in', ['audit.export_requested', 'audit.exported']).execute());
      assert.deepEqual(exported.map((e) => e.type).sort(), ['audit.export_requested', 'audit.exported']);
    } finally {
      await auditor.context.close();
    }
  });

  test('no CSP violations', () => {
    assert.deepEqual(cspViolations, []);
  });
});
