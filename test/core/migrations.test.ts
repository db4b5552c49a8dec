// A migration that fails in one tenant leaves that tenant exactly as it was.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl, pendingMigrations } from '../../src/db/migrations.ts';
import { createTenant, migrateTenant } from '../../src/tenancy/provision.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';
import { projectRoot } from '../support/facet.ts';

const KEK = Buffer.alloc(32, 9).toString('base64url');
const failing = path.join(projectRoot, 'test/fixtures/migrations-failing');

for (const backend of backends) {
  describe(`tenant migrations on ${backend}`, () => {
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

    test('a new tenant is fully migrated', async () => {
      const tenant = await createTenant(database.db, { slug: 'fresh' }, { kek: KEK });
      assert.deepEqual(await pendingMigrations(database.db, 'tenant', tenant.schema), []);
    });

    test('a failing migration run is rolled back as a whole and reported', async () => {
      const tenant = await createTenant(database.db, { slug: 'victim' }, { kek: KEK });
      const report = await migrateTenant(database.db, tenant, { extraFolders: [failing] });
      assert.ok(report.error, 'the failure is reported');
      assert.match(report.error!.message, /migration 9001_is_broken failed in tenant_victim: .*a_table_that_does_not_exist/);
      const leftovers = await sql<{ n: number }>`
        select count(*)::int as n from information_schema.tables where table_schema = ${tenant.schema} and table_name = 'should_not_survive'`.execute(database.db);
      assert.equal(leftovers.rows[0]!.n, 0, 'the good migration before it was rolled back too');
      const column = await sql<{ n: number }>`
        select count(*)::int as n from information_schema.columns where table_schema = ${tenant.schema} and table_name = 'users' and column_name = 'half_done'`.execute(database.db);
      assert.equal(column.rows[0]!.n, 0, 'no half-applied change');
      const recorded = await sql<{ name: string }>`select name from ${sql.table(`${tenant.schema}.kysely_migration`)} where name like '9%'`.execute(database.db);
      assert.deepEqual(recorded.rows, []);
      // And the tenant still works with the real migrations.
      const again = await migrateTenant(database.db, tenant);
      assert.equal(again.error, undefined);
    });
  });
}
