// Who waits for whom while tenants migrate, on real PostgreSQL: one tenant's migration never waits
// for another tenant's (provisioning and `facet migrate` run in parallel), and two processes
// migrating the same tenant at once (several nodes starting after an upgrade) do not both apply
// the same migration: the second waits for the first to commit and finds nothing left to do.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl, migrateTenantSchema } from '../../src/db/migrations.ts';
import { createTenant, migrateTenant } from '../../src/tenancy/provision.ts';
import { createTestDatabase, realPostgresUrl, type TestDatabase } from '../support/database.ts';
import { eventually } from '../support/eventually.ts';
import { projectRoot } from '../support/facet.ts';

const KEK = Buffer.alloc(32, 9).toString('base64url');
const extra = path.join(projectRoot, 'test/fixtures/migrations-extra');
const slow = path.join(projectRoot, 'test/fixtures/migrations-slow');

describe('tenant migration locks on real PostgreSQL', { skip: !realPostgresUrl && 'DATABASE_URL unset' }, () => {
  let testDb: TestDatabase;
  let database: Database;
  before(async () => {
    testDb = await createTestDatabase('postgres');
    database = await openDatabase({ kind: 'postgres', url: testDb.url!, poolSize: 6 });
    await migrateControl(database.db);
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });

  test('the same tenant migrated twice at once: the second waits for the first commit, then has nothing to apply', async () => {
    const tenant = await createTenant(database.db, { slug: 'twice' }, { kek: KEK });
    const first = await database.db.startTransaction().execute();
    const firstReport = await migrateTenantSchema(first, tenant.schema, [extra]);
    assert.deepEqual(firstReport.applied, ['9100_adds_a_notes_table']);
    const second = migrateTenant(database.db, tenant, { extraFolders: [extra] });
    await eventually('the second migration waits on a lock', async () => {
      const client = new pg.Client({ connectionString: testDb.url });
      await client.connect();
      try {
        return (await client.query(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows.length === 1;
      } finally {
        await client.end();
      }
    });
    await first.commit().execute();
    const secondReport = await second;
    assert.equal(secondReport.error, undefined);
    assert.deepEqual(secondReport.applied, []);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(`${tenant.schema}.kysely_migration`)} where name = '9100_adds_a_notes_table'`.execute(database.db);
    assert.equal(rows[0]!.n, 1);
  });

  test("one tenant's migration does not wait for another tenant's", async () => {
    const [busy, quick] = await Promise.all([
      createTenant(database.db, { slug: 'busy' }, { kek: KEK }),
      createTenant(database.db, { slug: 'quick' }, { kek: KEK }),
    ]);
    const finished: string[] = [];
    const slowRun = migrateTenant(database.db, busy, { extraFolders: [slow] }).then((report) => {
      finished.push('busy');
      return report;
    });
    // Let the slow migration take its lock and start sleeping.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const quickReport = await migrateTenant(database.db, quick, { extraFolders: [extra] });
    finished.push('quick');
    const slowReport = await slowRun;
    assert.deepEqual([quickReport.applied, slowReport.applied], [['9100_adds_a_notes_table'], ['9100_takes_its_time']]);
    assert.deepEqual(finished, ['quick', 'busy'], 'the quick tenant finished while the slow one still ran');
  });
});
