// Migrating one tenant must not cost O(all tenants) (issue 16, docs/benchmarks.md "tenants"):
// kysely's Migrator lists every table of the database to find its own two; src/db/migrations.ts
// limits that to the schema being migrated, and an up-to-date tenant costs two reads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { createTenant, migrateTenant } from '../../src/tenancy/provision.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { createTestDatabase, realPostgresUrl, type TestDatabase } from '../support/database.ts';

const KEK = Buffer.alloc(32, 9).toString('base64url');

/** The statements pg sends while `work` runs. */
async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    sent.push((text ?? '?').replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await work();
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}

// kysely's PostgresIntrospector.getTables(): every table of the database, with its columns.
const listsEveryTable = (text: string) => /"a"\."attname"/.test(text);

// Statements are counted on the pg client: PostgreSQL only (DATABASE_URL, as in CI).
describe('migrating one tenant among many (PostgreSQL)', { skip: !realPostgresUrl && 'needs DATABASE_URL' }, () => {
  let testDb: TestDatabase;
  let database: Database;
  before(async () => {
    testDb = await createTestDatabase('postgres');
    database = await openDatabase({ kind: 'postgres', url: testDb.url! });
    await migrateControl(database.db);
    for (const slug of ['many-a', 'many-b', 'many-c']) await createTenant(database.db, { slug }, { kek: KEK });
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });

  test('creating a tenant never lists the tables of the other tenants', async () => {
    const sent = await statementsDuring(() => createTenant(database.db, { slug: 'many-d' }, { kek: KEK }));
    assert.deepEqual(sent.filter(listsEveryTable), []);
  });

  test('an up-to-date tenant costs two reads inside its transaction, no Migrator, no re-grant', async () => {
    const tenant = (await findTenant(database.db, 'many-b'))!;
    let applied: string[] = ['?'];
    const sent = await statementsDuring(async () => {
      const report = await migrateTenant(database.db, tenant);
      assert.equal(report.error, undefined);
      applied = report.applied;
    });
    assert.deepEqual(applied, []);
    assert.equal(sent.filter((text) => !/^(begin|commit)$/i.test(text)).length, 2, sent.join('\n'));
    assert.deepEqual(sent.filter((text) => /revoke|grant|kysely_migration_lock|"a"\."attname"/i.test(text)), []);
  });
});
