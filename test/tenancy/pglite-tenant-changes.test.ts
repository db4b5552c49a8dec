// Embedded PGlite (the default without DATABASE_URL) has no second connection to LISTEN on, so
// the tenant pool used to notice a tenant change only at its periodic re-check (2 s): a colour saved
// in the console was missing from the very next sign-in page, an old client secret kept working for
// a moment. Now the process hears its own NOTIFY (src/db/pglite-pool.ts listen) and the next
// request sees the change. Both checks run with no retry: the first request after the change.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { findTenant, saveTenantSettings } from '../../src/tenancy/registry.ts';

describe('tenant changes on embedded PGlite apply to the next request', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet({ database: 'pglite' });
  });
  after(async () => facet?.close());

  const brandCss = async () => (await fetch(`${facet.baseUrl}/t/demo/brand.css`)).text();

  test('a saved brand colour is in the next brand.css', async () => {
    // Warm the tenant in the pool (and its re-check clock) first.
    assert.doesNotMatch(await brandCss(), /--accent: #1f4e79/);
    for (const color of ['#1f4e79', '#5a2d82']) {
      const demo = (await findTenant(facet.database.db, 'demo'))!;
      await saveTenantSettings(facet.database.db, 'demo', { settings: { ...(demo.settings as Record<string, unknown>), brand_color: color } });
      assert.match(await brandCss(), new RegExp(`--accent: ${color};`), `the request right after saving ${color}`);
    }
  });
});
