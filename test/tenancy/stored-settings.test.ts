// Tenant settings are parsed once, when the tenant is loaded, into a typed object (issue 11): the
// stored row holds the file's settings plus its resources and admins, and all of it parses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { findTenant, saveTenantSettings } from '../../src/tenancy/registry.ts';
import { parseTenantFile } from '../../src/tenancy/tenant-file.ts';
import { staticAdminTokenLeftovers } from '../../src/admin/legacy-admin-token.ts';
import { REFRESH_DEFAULTS } from '../../src/config/defaults.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';

const KEK = Buffer.alloc(32, 7).toString('base64url');

for (const backend of backends) {
  describe(`stored tenant settings on ${backend}`, () => {
    let testDb: TestDatabase;
    let database: Database;

    before(async () => {
      testDb = await createTestDatabase(backend);
      database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
      await migrateControl(database.db);
    });
    after(async () => {
      await database?.close();
      await testDb?.drop();
    });

    test('a tenant file applied with resources and admins loads as typed settings, defaults filled in', async () => {
      const file = parseTenantFile(
        'slug: typed\nname: Typed\nsettings:\n  signup: open\nresources:\n  - indicator: https://api.typed.example\nadmins:\n  - user: ada@typed.example\n',
      );
      await applyTenantFile(database.db, file, { kek: KEK, production: false, env: {} });
      const tenant = (await findTenant(database.db, 'typed'))!;
      assert.equal(tenant.settings.signup, 'open');
      assert.deepEqual(tenant.settings.resources, [{ indicator: 'https://api.typed.example', scopes: [], access_token_format: 'jwt' }]);
      assert.deepEqual(tenant.settings.admins, [{ user: 'ada@typed.example', role: 'admin' }]);

      // A row as the console or an older version wrote it, without the defaults: they are filled in
      // when it is loaded (a row with resources used not to parse at all and was served as stored).
      await saveTenantSettings(database.db, 'typed', { settings: { signup: 'closed', resources: [{ indicator: 'https://api.typed.example' }] } });
      const reloaded = (await findTenant(database.db, 'typed'))!;
      assert.equal(reloaded.settings.signup, 'closed');
      assert.equal(reloaded.settings.user_verification, 'required');
      assert.equal(reloaded.settings.resources[0]!.access_token_format, 'jwt');
      assert.deepEqual(reloaded.settings.refresh_tokens, {
        grace_seconds: REFRESH_DEFAULTS.graceSeconds,
        absolute_lifetime_seconds: REFRESH_DEFAULTS.absoluteSeconds,
        idle_timeout_seconds: REFRESH_DEFAULTS.idleSeconds,
      });
    });

    test('a stored row with a setting that is gone is served as stored, and the boot check names it', async () => {
      await createTenant(database.db, { slug: 'legacy', name: 'Legacy', settings: { signup: 'open', admin_token: { env: 'LEGACY_ADMIN_TOKEN' } } }, { kek: KEK });
      const tenant = (await findTenant(database.db, 'legacy'))!;
      assert.equal(tenant.settings.signup, 'open');
      const messages = staticAdminTokenLeftovers([tenant], {});
      assert.equal(messages.length, 1);
      assert.match(messages[0]!, /^tenant legacy: its stored settings still hold admin_token/);
    });
  });
}
