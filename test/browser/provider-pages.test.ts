// Issue 14 item 7 in Chromium: the pages oidc-provider renders (device-flow user-code pages, the
// logout confirmation, its error page) are Facet's — layout, strings, lang — pass axe (WCAG 2 A/AA),
// and, like every HTML answer, carry the CSP with frame-ancestors 'none', X-Frame-Options DENY
// and nosniff.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Response } from 'playwright-core';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { launchBrowser, screenshot, axeViolations } from './support.ts';


function assertSecurityHeaders(headers: Record<string, string>, what: string) {
  assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/, `${what}: CSP with frame-ancestors 'none'`);
  assert.match(headers['content-security-policy'] ?? '', /default-src 'self'/, `${what}: CSP default-src`);
  assert.equal(headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.equal(headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
}

async function assertAccessible(page: Page, what: string) {
  // evaluate() runs through the DevTools protocol, so the page's own CSP does not block axe.
  const result = { violations: await axeViolations(page) };
  assert.deepEqual(
    result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`),
    [],
    `${what} passes axe`,
  );
  assert.equal(await page.getAttribute('html', 'lang'), 'en', `${what}: lang`);
  assert.equal(await page.locator('link[rel=stylesheet][href="/assets/facet.css"]').count(), 1, `${what}: Facet's stylesheet`);
  assert.match((await page.locator('header.brand').textContent()) ?? '', /RP Interop/, `${what}: the tenant's branding`);
}

describe('pages oidc-provider renders, in Chromium', () => {
  let facet: TestFacet;
  let browser: Browser;
  let issuer: string;
  let sub: string;

  before(async () => {
    facet = await startTestFacet();
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/rp.yaml')), { kek: facet.config.kek, production: false });
    const tenant = (await findTenant(facet.database.db, 'rp'))!;
    sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'pages' }))).id;
    issuer = `${facet.baseUrl}/t/rp`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  test('device flow: code entry (and a wrong code), confirmation, success; then the logout pages', async () => {
    const device = (await (
      await fetch(`${issuer}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'rp-tv', scope: 'openid' }) })
    ).json()) as { user_code: string; verification_uri: string; device_code: string };
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);

    let response = (await page.goto(device.verification_uri))!;
    assertSecurityHeaders(await response.allHeaders(), 'code entry page');
    await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
    await assertAccessible(page, 'code entry page');

    await page.getByLabel('Code from your device').fill('WRONG-CODE');
    const wrong = page.waitForResponse((r: Response) => r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Continue' }).click();
    assertSecurityHeaders(await (await wrong).allHeaders(), 'wrong code page');
    await page.getByText('That code is not right').waitFor();
    await assertAccessible(page, 'wrong code page');

    // verification_uri_complete: oidc-provider posts the code on by itself (its form_post page's
    // one inline script, allowed by the hash it adds to our CSP's script-src).
    await page.goto(`${device.verification_uri}?user_code=${encodeURIComponent(device.user_code)}`);
    await page.getByRole('heading', { name: 'Is this your device?' }).waitFor();
    assert.match((await page.locator('main').textContent())!, new RegExp(device.user_code));
    await assertAccessible(page, 'confirmation page');
    await screenshot(page, '50-device-confirm');

    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/interaction\/[^/]+$/);
    response = (await page.goto(`${page.url()}/__test-complete?sub=${sub}`))!;
    await page.getByRole('heading', { name: 'Your device is signed in' }).waitFor();
    assertSecurityHeaders(await response.allHeaders(), 'device success page');
    await assertAccessible(page, 'device success page');

    // The browser now has a session: the logout confirmation and the signed-out page.
    response = (await page.goto(`${issuer}/session/end`))!;
    assertSecurityHeaders(await response.allHeaders(), 'logout page');
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await assertAccessible(page, 'logout page');
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await assertAccessible(page, 'signed-out page');
    await context.close();
  });

  test("oidc-provider's error page and Facet's own error pages carry the headers", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const providerError = (await page.goto(`${issuer}/auth?client_id=nobody&response_type=code&scope=openid`))!;
    assert.equal(providerError.status(), 400);
    assertSecurityHeaders(await providerError.allHeaders(), 'oidc-provider error page');
    await assertAccessible(page, 'oidc-provider error page');
    const notFound = (await page.goto(`${issuer}/no-such-page`))!;
    assert.equal(notFound.status(), 404);
    assertSecurityHeaders(await notFound.allHeaders(), "Facet's 404 page");
    await context.close();
  });
});
