// Branding through the console's admin API (issue 12): the primary colour is checked for contrast
// (an unreadable one is a 400 naming the field), reaches the end-user pages' stylesheet at once,
// and survives `facet tenant apply` of a file that does not declare it (a file that does wins).
// What the tenant file declares (its name) is read-only: 409 naming the field. Audited.
// On embedded PGlite, and on real PostgreSQL too when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestFacet } from '../support/facet.ts';
import { backends } from '../support/backends.ts';
import { consoleApi, consoleSignIn, createUserWithRole, freshStepUp, startFacetWithDemoCopy, type ConsoleSession } from '../support/console-session.ts';
import { eventually } from '../support/eventually.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { parseTenantFile } from '../../src/tenancy/tenant-file.ts';

type Branding = { branding: { displayName: string; logoUrl: string | null; primaryColor: string | null }; contrast: { color: string; againstWhite: number; darkModeShade: string }; managedBy: string | null; readOnly: string[] };

for (const backend of backends) {
  describe(`branding through the console API (${backend})`, () => {
    let facet: TestFacet;
    let demo: TenantRecord;
    let admin: ConsoleSession;
    let adminId = '';
    let demoYaml = '';

    const api = (who: ConsoleSession, route: string, init: { method?: string; body?: unknown } = {}) => consoleApi(facet, who, route, init);
    const brandCss = async () => (await fetch(`${facet.baseUrl}/t/demo/brand.css`)).text();

    before(async () => {
      ({ facet, demo, demoYaml } = await startFacetWithDemoCopy(backend));
      adminId = await createUserWithRole(facet, demo, 'ada', 'admin');
      admin = await consoleSignIn(facet, adminId);
      await freshStepUp(facet, demo, adminId);
    });
    after(async () => facet?.close());

    test('read: the defaults, the contrast of the colour in use, and what the tenant file declares', async () => {
      const read = (await (await api(admin, '/branding')).json()) as Branding;
      assert.deepEqual(read.branding, { displayName: 'Demo Organisation', logoUrl: null, primaryColor: null });
      assert.equal(read.contrast.color, '#2457d6');
      assert.ok(read.contrast.againstWhite >= 4.5);
      assert.match(read.managedBy!, /demo\.yaml$/);
      assert.deepEqual(read.readOnly, ['displayName']);
    });

    test('an unreadable colour is refused beside its field; a file-declared name is read-only', async () => {
      const yellow = await api(admin, '/branding', { method: 'PUT', body: { primaryColor: '#ffd700' } });
      assert.equal(yellow.status, 400);
      const problem = (await yellow.json()) as { errors: Array<{ pointer: string; detail: string }> };
      assert.deepEqual(problem.errors.map((e) => e.pointer), ['#/primaryColor']);
      assert.match(problem.errors[0]!.detail, /contrast of 1\.\d+:1 against white/);
      const notAColour = (await (await api(admin, '/branding', { method: 'PUT', body: { primaryColor: 'red', logoUrl: 'javascript:alert(1)' } })).json()) as { errors: Array<{ pointer: string }> };
      assert.deepEqual(notAColour.errors.map((e) => e.pointer).sort(), ['#/logoUrl', '#/primaryColor']);
      const name = await api(admin, '/branding', { method: 'PUT', body: { displayName: 'Renamed' } });
      assert.equal(name.status, 409);
      const conflict = (await name.json()) as { code: string; errors: Array<{ pointer: string }> };
      assert.equal(conflict.code, 'managed_by_file');
      assert.deepEqual(conflict.errors.map((e) => e.pointer), ['#/displayName']);
      assert.doesNotMatch(await brandCss(), /--accent/);
    });

    test('a readable colour reaches the end-user stylesheet at once, and tenant apply keeps it', async () => {
      const saved = await api(admin, '/branding', { method: 'PUT', body: { primaryColor: '#1F5F3A', logoUrl: 'https://demo.example/logo.svg' } });
      assert.equal(saved.status, 200);
      const body = (await saved.json()) as Branding;
      assert.deepEqual(body.branding, { displayName: 'Demo Organisation', logoUrl: 'https://demo.example/logo.svg', primaryColor: '#1f5f3a' });
      assert.ok(body.contrast.againstWhite >= 4.5);
      await eventually('brand.css has the colour', async () => (await brandCss()).includes('--accent: #1f5f3a'));
      const audit = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select(['actor', 'data']).where('type', '=', 'tenant.branding_changed').execute());
      assert.deepEqual(audit.map((e) => [e.actor, (e.data as { fields: string[] }).fields]), [[adminId, ['logoUrl', 'primaryColor']]]);

      // The file does not declare a colour: applying it again keeps the console's.
      await applyTenantFile(facet.database.db, parseTenantFile(demoYaml), { kek: facet.config.kek, production: false });
      const kept = (await findTenant(facet.database.db, 'demo'))!.settings as { brand_color?: string; logo_url?: string };
      assert.deepEqual([kept.brand_color, kept.logo_url], ['#1f5f3a', 'https://demo.example/logo.svg']);
      // A file that declares one wins, and the console then shows it read-only.
      const declaring = demoYaml.replace('settings:\n', 'settings:\n  brand_color: "#8a1538"\n');
      await applyTenantFile(facet.database.db, parseTenantFile(declaring), { kek: facet.config.kek, production: false });
      assert.equal(((await findTenant(facet.database.db, 'demo'))!.settings as { brand_color?: string }).brand_color, '#8a1538');
    });
  });
}
