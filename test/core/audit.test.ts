// The audit chain names the first row that was altered or removed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit, verifyAuditChain } from '../../src/audit/audit-log.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';

for (const backend of backends) {
  describe(`audit chain on ${backend}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    let tenant: TenantRecord;
    before(async () => {
      testDb = await createTestDatabase(backend);
      database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
      await migrateControl(database.db);
      tenant = await createTenant(database.db, { slug: 'ledger' }, { kek: Buffer.alloc(32, 4).toString('base64url') });
      await withTenant(database.db, tenant, async (trx) => {
        for (let i = 0; i < 5; i += 1) await appendAudit(trx, { type: 'tenant.settings_changed', actor: 'tester', data: { i } });
      });
    });
    after(async () => {
      await database?.close();
      await testDb?.drop();
    });

    const table = () => sql.table(`${tenant.schema}.audit_events`);

    test('concurrent appends keep one unbroken chain', async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => withTenant(database.db, tenant, (trx) => appendAudit(trx, { type: 'client.updated', data: { i } }))));
      const verdict = await withTenant(database.db, tenant, (trx) => verifyAuditChain(trx, { batchSize: 4 }));
      assert.deepEqual(verdict, { ok: true, rows: 16 });
    });

    test('even the owner cannot update rows without disabling the guard', async () => {
      await assert.rejects(sql`update ${table()} set actor = 'mallory'`.execute(database.db), /append-only/);
    });

    test('an altered row is named', async () => {
      // A superuser who disables the guard can change a row; the chain still tells.
      await sql.raw(`alter table ${tenant.schema}.audit_events disable trigger audit_events_no_update`).execute(database.db);
      try {
        const { rows } = await sql<{ id: string }>`select id::text as id from ${table()} order by id offset 3 limit 1`.execute(database.db);
        await sql`update ${table()} set data = '{"i": 99}'::jsonb where id = ${rows[0]!.id}::bigint`.execute(database.db);
        const verdict = await withTenant(database.db, tenant, (trx) => verifyAuditChain(trx));
        assert.equal(verdict.ok, false);
        assert.equal(!verdict.ok && verdict.firstBrokenId, rows[0]!.id);
        assert.match(!verdict.ok ? verdict.reason : '', /altered/);
        // A removed row breaks the link of the row after it.
        await sql`delete from ${table()} where id = ${rows[0]!.id}::bigint`.execute(database.db);
        const after = await withTenant(database.db, tenant, (trx) => verifyAuditChain(trx));
        assert.equal(after.ok, false);
        assert.match(!after.ok ? after.reason : '', /removed or reordered/);
      } finally {
        await sql.raw(`alter table ${tenant.schema}.audit_events enable trigger audit_events_no_update`).execute(database.db);
      }
    });
  });
}
