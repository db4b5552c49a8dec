// The platform operator console in Chromium (issue 12), on real PostgreSQL when DATABASE_URL is
// set: an operator of FACET_OPERATOR_TENANT signs in through that tenant's OIDC (the sign-in
// finished by the test helper), sees every tenant with status, pool state and migrations, creates
// one with the keyboard, disables it (confirmed) and sees its issuer refuse, enables it again. No CSP
// violation; axe finds nothing at 1280 and 390 px in light and dark mode.
// Screenshots: test-artifacts/passkey/operator-*.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { grantOperator } from '../../src/admin/roles.ts';
import { launchBrowser, screenshot, axeViolations } from './support.ts';


async function assertAccessible(page: Page, shot: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const viewport of [
      { name: 'desktop', width: 1280, height: 800 },
      { name: 'phone', width: 390, height: 844 },
    ]) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      const result = { violations: await axeViolations(page) };
      const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(serious.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.html).join(' | ')}`), [], `operator console passes axe at ${viewport.name} width, ${scheme}`);
      await screenshot(page, `operator-${shot}-${viewport.name}-${scheme}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('operator console in Chromium', () => {
  let facet: TestFacet;
  let browser: Browser;
  let page: Page;
  let operatorId = '';
  const cspViolations: string[] = [];

  before(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'facet-operator-browser-'));
    await writeFile(path.join(dir, 'demo.yaml'), await readFile(path.join(projectRoot, 'tenants/demo.yaml'), 'utf8'));
    await writeFile(path.join(dir, 'ops.yaml'), 'slug: ops\nname: Platform operators\nsettings: { signup: closed }\n');
    facet = await startTestFacet({ tenantsDir: dir, env: { FACET_OPERATOR_TENANT: 'ops' } });
    const ops = (await findTenant(facet.database.db, 'ops'))!;
    await withTenant(facet.database.db, ops, async (trx) => {
      operatorId = (await createUser(trx, { username: 'olive' })).id;
      await grantOperator(trx, { userId: operatorId, source: 'cli', actor: 'test' });
    });
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
  });

  test('an operator signs in, lists, creates, disables and enables a tenant', async () => {
    await page.goto(`${facet.baseUrl}/console`);
    // The operator tenant's own sign-in page; the test helper finishes it as the operator.
    assert.match(new URL(page.url()).pathname, /^\/t\/ops\/interaction\//);
    await page.goto(`${page.url()}/__test-complete?sub=${operatorId}`);
    assert.equal(new URL(page.url()).pathname, '/console');
    await page.getByRole('heading', { name: 'Operator console' }).waitFor();
    const table = page.getByRole('table');
    await table.getByText('demo', { exact: true }).waitFor();
    assert.match(await table.innerText(), /ops[\s\S]*operator tenant/);
    assert.match(await table.innerText(), /up to date/);
    await assertAccessible(page, 'tenants');

    // A write without a step-up is refused with a way to step up; the step-up through Facet's pages
    // (passkey + authenticator app) is the tenant console's browser test: here the session is given its result.
    await page.getByLabel('Slug (2–40 characters: a-z, 0-9, -)').fill('early');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('link', { name: 'Step up now' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Step up now' }).getAttribute('href'), '/console/step-up');
    await page.getByLabel('Slug (2–40 characters: a-z, 0-9, -)').fill('');
    const ops = (await findTenant(facet.database.db, 'ops'))!;
    await withTenant(facet.database.db, ops, (trx) => trx.updateTable('console_sessions').set({ acr: 'urn:facet:acr:passkey+otp', auth_time: new Date() }).where('user_id', '=', operatorId).execute());

    // Create with the keyboard only.
    await page.getByLabel('Slug (2–40 characters: a-z, 0-9, -)').focus();
    await page.keyboard.type('acme');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Acme Corp');
    await page.keyboard.press('Enter');
    await table.getByText('acme', { exact: true }).waitFor();
    assert.equal((await fetch(`${facet.baseUrl}/t/acme/.well-known/openid-configuration`)).status, 200);

    // Disable, confirmed.
    const row = table.getByRole('row').filter({ hasText: 'Acme Corp' });
    await row.getByRole('button', { name: 'Disable…' }).click();
    await screenshot(page, 'operator-confirm-disable');
    await row.getByRole('button', { name: 'Disable', exact: true }).click();
    await row.getByText('disabled').waitFor();
    const refused = await fetch(`${facet.baseUrl}/t/acme/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { code: string }).code, 'tenant_disabled');
    await page.goto(`${facet.baseUrl}/t/acme/account`);
    assert.match(await page.content(), /disabled by the platform operator/);
    await screenshot(page, 'operator-disabled-tenant-page');

    await page.goto(`${facet.baseUrl}/console`);
    const again = page.getByRole('table').getByRole('row').filter({ hasText: 'Acme Corp' });
    await again.getByRole('button', { name: 'Enable…' }).click();
    await again.getByRole('button', { name: 'Enable', exact: true }).click();
    await again.getByText('active').waitFor();
    assert.equal((await fetch(`${facet.baseUrl}/t/acme/.well-known/openid-configuration`)).status, 200);
    assert.deepEqual(cspViolations, []);
  });
});
