// The JavaScript chain hash (what `facet audit verify` computes offline) equals the database's for
// awkward data: unicode, escapes, numbers PostgreSQL prints differently from JavaScript, key order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { AUDIT_ROW_SELECT, csvRecord, jsonbText, parseCsvRecord, rowFromCsv, rowHash, toAuditRow } from '../../src/audit/rows.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';

const AWKWARD: Array<Record<string, unknown>> = [
  { i: 1, big: 1e21, small: 1e-7, neg: -2.5e-9, float: 0.1, negzero: -0, max: Number.MAX_SAFE_INTEGER },
  { 'ключ': 'значение', emoji: '🔐 passkey', quote: 'say "hi"\\', ctl: '\u0001\t\n\r\b\f\u001f\u007f', nul_free: 'a\u2028b' },
  { nested: { zz: [1, { b: 2, a: [] }, null, true], a: {} }, '': 'empty key', aa: 1, b: 2, '10': 'digits first in JS' },
  {},
];

for (const backend of backends) {
  describe(`offline chain hash on ${backend}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    let tenant: TenantRecord;
    before(async () => {
      testDb = await createTestDatabase(backend);
      database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
      await migrateControl(database.db);
      tenant = await createTenant(database.db, { slug: 'rows' }, { kek: Buffer.alloc(32, 4).toString('base64url') });
      await withTenant(database.db, tenant, async (trx) => {
        for (const data of AWKWARD) {
          await appendAudit(trx, { type: 'tenant.settings_changed', actor: 'ünïcödé "actor"', subject: null, clientId: 'c,1', ip: '2001:db8::1', userAgent: 'UA\nwith newline', requestId: 'r', data });
        }
      });
    });
    after(async () => {
      await database?.close();
      await testDb?.drop();
    });

    test('every row hashes the same in JavaScript as in the database', async () => {
      const rows = await withTenant(database.db, tenant, async (trx) => (await sql<Record<string, unknown>>`select ${sql.raw(AUDIT_ROW_SELECT)} from audit_events e order by id`.execute(trx)).rows.map(toAuditRow));
      assert.equal(rows.length, AWKWARD.length + 1);
      for (const row of rows) assert.equal(rowHash(row), row.hash, `row ${row.id} (${JSON.stringify(row.data)})`);
      // And one changed character anywhere changes the hash.
      const changed = { ...rows[2]!, user_agent: 'UA\nwith newlinf' };
      assert.notEqual(rowHash(changed), rows[2]!.hash);
    });

    test('jsonb text matches PostgreSQL for the awkward values', async () => {
      for (const value of AWKWARD) {
        const { rows } = await sql<{ t: string }>`select (${JSON.stringify(value)})::jsonb::text as t`.execute(database.db);
        assert.equal(jsonbText(JSON.parse(JSON.stringify(value))), rows[0]!.t);
      }
    });

    test('a CSV record reads back to the same row', async () => {
      const rows = await withTenant(database.db, tenant, async (trx) => (await sql<Record<string, unknown>>`select ${sql.raw(AUDIT_ROW_SELECT)} from audit_events e order by id`.execute(trx)).rows.map(toAuditRow));
      for (const row of rows) assert.deepEqual(rowFromCsv(parseCsvRecord(csvRecord(row))), row);
    });
  });
}
