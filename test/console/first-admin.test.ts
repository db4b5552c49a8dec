// The first minute (issue 12): in development the start banner's link makes the next passkey
// sign-up at demo its admin — any email address, single use; no link once demo has an admin, and
// never in production. Sign-up over HTTP with a software authenticator through the real pages. On embedded PGlite,
// and on real PostgreSQL too when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { backends } from '../support/backends.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';
import { firstAdminLink } from '../../src/console/first-admin.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { listRoleGrants } from '../../src/admin/roles.ts';

for (const backend of backends) {
  describe(`first admin link (development start banner) (${backend})`, () => {
    let facet: TestFacet;
    before(async () => {
      facet = await startTestFacet({ database: backend });
    });
    after(async () => facet?.close());

    test('the link makes the next sign-up (any email) the admin, once; then no more links', async () => {
      assert.equal(await firstAdminLink(facet.database.db, { ...facet.config, production: true }), undefined, 'never in production');
      const link = (await firstAdminLink(facet.database.db, facet.config)) ?? '';
      assert.ok(link.startsWith(`${facet.baseUrl}/t/demo/account/sign-in/signup?invite=`), link);
      const invite = new URL(link).searchParams.get('invite')!;

      const first = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
      const signedUp = await first.signUp({ username: 'newcomer', email: 'newcomer@anywhere.example', invite });
      assert.ok(signedUp.ok, signedUp.ok ? '' : signedUp.text);
      const demo = (await findTenant(facet.database.db, 'demo'))!;
      const grants = await withTenant(facet.database.db, demo, (trx) => listRoleGrants(trx));
      assert.deepEqual(grants.map((g) => [g.username, g.role, g.source]), [['newcomer', 'admin', 'invite']]);

      // Single use: a second sign-up with the same link is refused and gets no role.
      const second = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
      const again = await second.signUp({ username: 'latecomer', email: 'late@anywhere.example', invite });
      assert.equal(again.ok, false);
      assert.equal((await withTenant(facet.database.db, demo, (trx) => listRoleGrants(trx))).length, 1);

      assert.equal(await firstAdminLink(facet.database.db, facet.config), undefined, 'demo has an admin now');
    });
  });
}
