// Audit retention on real PostgreSQL and the embedded PGlite: rows past the tenant's retention go,
// in id order, only behind a signed checkpoint of the last one removed; the chain (and the check
// against external checkpoints) verifies from there; the removal is audited; the tenant role still
// cannot delete, and the newest row always stays.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit, verifyAuditChain } from '../../src/audit/audit-log.ts';
import { applyRetention, retentionDaysOf } from '../../src/audit/retention.ts';
import { checkpointTenant, listCheckpoints, verifyChainAgainstCheckpoints } from '../../src/audit/checkpoints.ts';
import { auditKeySet, CHECKPOINT_TYP, verifyAuditJws } from '../../src/audit/signing.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';

const KEK = Buffer.alloc(32, 4).toString('base64url');
const DAY = 86_400_000;

for (const backend of backends) {
  describe(`audit retention on ${backend}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    let tenant: TenantRecord;
    before(async () => {
      testDb = await createTestDatabase(backend);
      database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
      await migrateControl(database.db);
      tenant = await createTenant(database.db, { slug: 'ledger', settings: { audit_retention_days: 30 } }, { kek: KEK });
    });
    after(async () => {
      await database?.close();
      await testDb?.drop();
    });

    const append = (n: number) =>
      withTenant(database.db, tenant, async (trx) => {
        for (let i = 0; i < n; i += 1) await appendAudit(trx, { type: 'token.issued', clientId: 'web', data: { kinds: ['access_token'] } });
      });
    const ids = () => withTenant(database.db, tenant, async (trx) => (await sql<{ id: string }>`select e.id::text as id from audit_events e order by e.id`.execute(trx)).rows.map((r) => r.id));

    test('the retention period is per tenant (default 400 days)', () => {
      assert.equal(retentionDaysOf(tenant.settings), 30);
      assert.equal(retentionDaysOf({}), 400);
      assert.equal(retentionDaysOf({ audit_retention_days: 0 }), 400);
    });

    test('nothing is removed before the period; then old rows go behind a signed checkpoint and the chain still verifies', async () => {
      await append(6);
      await checkpointTenant(database.db, tenant, { kek: KEK, issuer: 'http://localhost/t/ledger', reason: 'scheduled' });
      const before = await ids();
      assert.deepEqual(await applyRetention(database.db, tenant, { kek: KEK, issuer: 'http://localhost/t/ledger' }), { removed: 0, throughEventId: null, checkpointSeq: null });
      // 31 days later, everything but the newest row is past 30 days.
      const result = await applyRetention(database.db, tenant, { kek: KEK, issuer: 'http://localhost/t/ledger', now: new Date(Date.now() + 31 * DAY) });
      assert.equal(result.throughEventId, before.at(-2));
      assert.equal(result.removed, before.length - 1);
      const afterIds = await ids();
      assert.equal(afterIds[0], before.at(-1), 'the newest row stayed');
      assert.equal(afterIds.length, 2, 'and the removal is itself an event');
      const events = await withTenant(database.db, tenant, async (trx) => (await sql<{ type: string; data: any }>`select type, data from audit_events order by id`.execute(trx)).rows);
      assert.equal(events[1]!.type, 'audit.retention_removed');
      assert.equal(events[1]!.data.through_event_id, result.throughEventId);

      // The checkpoint the removal stands behind is signed and names the last removed row.
      const keys = await withTenant(database.db, tenant, (trx) => auditKeySet(trx));
      const checkpoints = await withTenant(database.db, tenant, (trx) => listCheckpoints(trx));
      const anchor = checkpoints.find((c) => c.reason === 'retention')!;
      const { payload } = await verifyAuditJws(anchor.jws, keys, CHECKPOINT_TYP);
      assert.equal(payload.event_id, result.throughEventId);

      // The chain verifies from the anchor; so does the check against the checkpoints.
      await append(2);
      assert.deepEqual(await withTenant(database.db, tenant, (trx) => verifyAuditChain(trx)), { ok: true, rows: 4 });
      const report = await withTenant(database.db, tenant, (trx) => verifyChainAgainstCheckpoints(trx, { slug: 'ledger', checkpoints: checkpoints.map((c) => c.jws), keys }));
      assert.deepEqual(report.problems, []);
      assert.match(report.notes.join('\n'), /removed by retention/);
    });

    test('the tenant role still cannot delete or update, retention flag or not', async () => {
      await assert.rejects(
        withTenant(database.db, tenant, async (trx) => {
          await sql`select set_config('facet.audit_retention', 'on', true)`.execute(trx);
          await sql`delete from audit_events`.execute(trx);
        }),
        /permission denied/,
      );
      await assert.rejects(
        database.db.transaction().execute(async (owner) => {
          await sql.raw(`set local search_path to ${tenant.schema}`).execute(owner);
          await sql`select set_config('facet.audit_retention', 'on', true)`.execute(owner);
          await sql`update audit_events set actor = 'mallory'`.execute(owner);
        }),
        /append-only/,
        'the flag lets a DELETE through for the owner, never an UPDATE',
      );
      await assert.rejects(sql.raw(`delete from ${tenant.schema}.audit_events`).execute(database.db), /append-only/, 'the owner without the flag is refused');
    });
  });
}
