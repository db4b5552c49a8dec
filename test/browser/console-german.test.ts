// Issue 18, languages in the console (Chromium): a browser that prefers German (locale de-DE, so
// Accept-Language de-DE) gets the tenant console in German — the shell the server sends is
// <html lang="de">, the app reads that and shows German headings, navigation, buttons, form labels,
// client-side check messages and dates in German notation — with the language switcher in the
// header; its English link turns the console English and the choice is remembered (facet_lang) over
// the browser's German, and keeps the address's other query parameters (a user search). axe (WCAG 2 A/AA) passes on the German pages; no CSP violation.
// Screenshots: test-artifacts/passkey/console-de-*.png.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { firstAdminLink } from '../../src/console/first-admin.ts';
import { LANGUAGES } from '../../views/strings/index.ts';
import { CONSOLE_LANGUAGES } from '../../views/strings/console/index.ts';
import { fill } from '../../views/strings/format.ts';
import { launchBrowser, screenshot, axeViolations, pageWithAuthenticator } from './support.ts';

const pages = LANGUAGES.de.strings;
const de = CONSOLE_LANGUAGES.de;
const en = CONSOLE_LANGUAGES.en;

async function axe(page: Page, what: string): Promise<void> {
  const result = { violations: await axeViolations(page) };
  assert.deepEqual(result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.html).join(' | ')}`), [], `${what}: axe`);
}

describe('the console in German (Chromium)', () => {
  let facet: TestFacet;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];

  before(async () => {
    facet = await startTestFacet({ database: 'pglite' });
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    await withTenant(facet.database.db, demo, (trx) => createUser(trx, { username: 'zoe-target', email: 'zoe@demo.example' }));
    browser = await launchBrowser();
    ({ context, page } = await pageWithAuthenticator(browser, { context: { locale: 'de-DE', timezoneId: 'Europe/Berlin' } }));
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  /** The console after Facet's passkey sign-in (autofill, or the button once autofill had its chance). */
  async function openConsole(path: string): Promise<void> {
    await page.goto(`${facet.baseUrl}/t/demo/console${path}`);
    for (let i = 0; i < 6 && !new URL(page.url()).pathname.startsWith('/t/demo/console/'); i += 1) {
      await page.waitForLoadState('load');
      const before = page.url();
      if (await page.locator('#passkey-button').count()) {
        if (await page.waitForURL((u) => u.href !== before, { timeout: 3000 }).then(() => true, () => false)) continue;
        await page.locator('#passkey-button').click({ timeout: 2000 }).catch(() => undefined);
      }
      await page.waitForURL((u) => u.href !== before, { timeout: 8000 }).catch(() => undefined);
    }
    await page.waitForURL((u) => u.pathname.startsWith('/t/demo/console/') && !u.pathname.endsWith('/callback'));
  }

  test('a German browser gets the console in German; the switcher turns it English and is remembered', async () => {
    // A newcomer becomes demo's admin through the first-admin link (the sign-up pages are German too).
    await page.goto((await firstAdminLink(facet.database.db, facet.config))!);
    await page.getByLabel(pages.signUp.usernameLabel).fill('neu-admin');
    await page.getByLabel(pages.signUp.emailLabel).fill('neu@demo.example');
    await page.getByRole('button', { name: pages.signUp.submit }).click();
    await page.getByRole('button', { name: pages.createPasskey.button }).click();
    await page.getByRole('button', { name: pages.recoveryCodes.confirm }).click();
    await page.waitForURL(/\/t\/demo\/account/);

    // The overview: the shell is German, and so is the app.
    await openConsole('');
    await page.getByRole('heading', { name: de.overview.heading, level: 1 }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    assert.match(await page.title(), /^Konsole · /);
    const nav = page.getByRole('navigation', { name: de.shell.navLabel });
    for (const label of [de.shell.overview, de.shell.users, de.shell.admins, de.shell.applications, de.shell.keys, de.shell.policies, de.shell.branding, de.shell.audit]) {
      await nav.getByRole('link', { name: label, exact: true }).waitFor();
    }
    await page.getByRole('button', { name: de.shell.signOut }).waitFor();
    await page.getByText(de.overview.successfulAuthentications, { exact: true }).waitFor();
    await page.getByText(de.overview.authChart).first().waitFor();
    const switcher = page.getByRole('navigation', { name: de.common.language });
    assert.equal(await switcher.locator('[aria-current="true"]').textContent(), 'Deutsch');
    assert.equal(await switcher.getByRole('link', { name: 'English' }).getAttribute('href'), '?lang=en');
    const main = (await page.locator('main').textContent())!;
    assert.ok(!main.includes(en.overview.successfulAuthentications), 'no English left on the overview');
    await axe(page, 'overview (de)');
    await screenshot(page, 'console-de-overview');

    // Users: German table headers, and dates in German notation (Intl with the page's language).
    await nav.getByRole('link', { name: de.shell.users, exact: true }).click();
    await page.getByRole('heading', { name: de.users.heading, level: 1 }).waitFor();
    await page.getByRole('button', { name: de.users.searchButton, exact: true }).waitFor();
    await page.getByRole('columnheader', { name: de.users.email }).waitFor();
    await page.getByRole('link', { name: 'zoe-target' }).waitFor();
    assert.match((await page.locator('tbody tr td.wide').first().textContent())!, /^\d{1,2}\.\d{1,2}\.\d{4}, \d{2}:\d{2}:\d{2}$/, 'a German date');

    // A form page: labels, the submit button, and the check before sending — in German.
    await nav.getByRole('link', { name: de.shell.applications, exact: true }).click();
    await page.getByRole('link', { name: de.clients.newApplication }).click();
    await page.getByRole('heading', { name: de.clients.newApplication, level: 1 }).waitFor();
    await page.getByLabel(de.clientForm.name, { exact: true }).waitFor();
    await page.getByRole('group', { name: de.clientForm.grantTypes }).waitFor();
    await page.getByLabel(de.clientForm.authMethod).waitFor();
    await page.getByRole('button', { name: de.clients.createLabel }).click();
    // The name and the redirect URIs are missing: one sentence above the form, each message beside its field.
    await page.getByText(fill(de.common.correctFields, { count: 2 }, 'de')).waitFor();
    // The API schema's own messages (src/admin/client-settings.ts, English) beside their fields, in German.
    assert.equal(await page.locator('#client-name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#client-name-error').textContent(), de.schemaMessages.applicationName);
    assert.equal(await page.locator('#client-redirects-error').textContent(), de.schemaMessages.redirectNeeded);
    await axe(page, 'new application (de)');
    await screenshot(page, 'console-de-new-application');

    // The switcher: English, on the same page, remembered over the browser's German.
    await page.getByRole('navigation', { name: de.common.language }).getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: en.clients.newApplication, level: 1 }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(new URL(page.url()).pathname, '/t/demo/console/clients/new');
    await page.getByRole('button', { name: en.clients.createLabel }).waitFor();
    await page.getByLabel(en.clientForm.name, { exact: true }).waitFor();
    assert.ok((await context.cookies()).some((c) => c.name === 'facet_lang' && c.value === 'en'));
    await page.goto(`${facet.baseUrl}/t/demo/console/overview`);
    await page.getByRole('heading', { name: en.overview.heading, level: 1 }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: en.common.language }).locator('[aria-current="true"]').textContent(), 'English');
    // And back to German.
    await page.getByRole('navigation', { name: en.common.language }).getByRole('link', { name: 'Deutsch' }).click();
    await page.getByRole('heading', { name: de.overview.heading, level: 1 }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');

    // The switcher keeps the rest of the address: a user search stays when the language changes.
    await page.goto(`${facet.baseUrl}/t/demo/console/users?q=zoe`);
    await page.getByRole('heading', { name: de.users.heading, level: 1 }).waitFor();
    const english = page.getByRole('navigation', { name: de.common.language }).getByRole('link', { name: 'English' });
    assert.equal(await english.getAttribute('href'), '?q=zoe&lang=en');
    await english.click();
    await page.getByRole('heading', { name: en.users.heading, level: 1 }).waitFor();
    assert.equal(new URL(page.url()).search, '?q=zoe&lang=en');
    assert.equal(await page.getByLabel(en.users.search).inputValue(), 'zoe');
    await page.getByRole('link', { name: 'zoe-target' }).waitFor();
  });

  test('no CSP violations', () => {
    assert.deepEqual(cspViolations, []);
  });
});
