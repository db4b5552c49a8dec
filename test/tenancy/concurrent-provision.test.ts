// Tenants created at the same time on a fresh PostgreSQL server all succeed. The race: kysely's
// migration lock is released before a tenant's transaction commits, so a second tenant can reach
// the pgvector migration while the first has created the extension but not committed; without a
// lock of our own the second then fails on pg_extension's unique index (seen when the tenants
// bench provisioned two at a time on a fresh database). The first test holds that window open
// on purpose: it fails without the lock in ensureVectorExtension.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import { listTenants } from '../../src/tenancy/registry.ts';
import { ensureVectorExtension } from '../../migrations/tenant/0101_face_vectors.ts';
import { createTestDatabase, realPostgresUrl, type TestDatabase } from '../support/database.ts';
import { eventually } from '../support/eventually.ts';

const KEK = Buffer.alloc(32, 7).toString('base64url');

async function query(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('concurrent tenant provisioning on real PostgreSQL', { skip: !realPostgresUrl && 'DATABASE_URL unset' }, () => {
  let testDb: TestDatabase;
  let database: Database;
  let vector = false;

  before(async () => {
    testDb = await createTestDatabase('postgres');
    database = await openDatabase({ kind: 'postgres', url: testDb.url!, poolSize: 6 });
    await migrateControl(database.db);
    vector = (await query(testDb.url!, `select 1 from pg_available_extensions where name = 'vector'`)).length > 0;
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });

  test('a tenant created while another has created pgvector but not committed waits for it, then succeeds', async (t) => {
    if (!vector) return t.skip('pgvector is not installed in this PostgreSQL (../shared/bin/install-pgvector)');
    // The first tenant's transaction, stopped right after its pgvector migration created the extension.
    const first = await database.db.startTransaction().execute();
    await ensureVectorExtension(first);
    const second = createTenant(database.db, { slug: 'c-second' }, { kek: KEK });
    second.catch(() => {});
    // The second tenant reaches the same migration and waits on a lock held by the first.
    await eventually('the second tenant waits on a lock held by the first', async () =>
      (await query(testDb.url!, `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).length === 1,
    );
    await first.commit().execute();
    const created = await second;
    assert.equal(created.slug, 'c-second');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from tenant_c_second.face_vectors`.execute(database.db);
    assert.equal(rows[0]!.n, 0);
  });

  test('six tenants created at once all exist, each with its face vectors table where pgvector is there', async () => {
    const slugs = ['c-one', 'c-two', 'c-three', 'c-four', 'c-five', 'c-six'];
    const results = await Promise.allSettled(slugs.map((slug) => createTenant(database.db, { slug }, { kek: KEK })));
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${slugs[i]}: ${(r.reason as Error).message}`] : []));
    assert.deepEqual(failures, []);
    assert.deepEqual((await listTenants(database.db)).map((t) => t.slug).filter((s) => slugs.includes(s)).sort(), [...slugs].sort());
    const tables = await query(testDb.url!, `select table_schema from information_schema.tables where table_name = 'face_vectors' and table_schema <> 'tenant_c_second' order by 1`);
    assert.deepEqual(tables.map((r) => r.table_schema), vector ? slugs.map((s) => `tenant_${s.replace('-', '_')}`).sort() : []);
  });
});
