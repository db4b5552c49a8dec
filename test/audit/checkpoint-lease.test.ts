// Checkpoint delivery holds no transaction while a sink is called (issue 11, "no slow work inside
// a transaction"), on real PostgreSQL: a sink that blocks until the test has looked. While it
// blocks, no backend of the database is 'idle in transaction', the sink's cursor row can be locked
// at once (FOR UPDATE NOWAIT; the old delivery held it for the whole network call), and a second
// delivery leaves the sink to the lease holder. A lease taken over after it ran out keeps the old
// holder from moving the cursor.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { checkpointTenant, deliverPendingCheckpoints, type CheckpointSink } from '../../src/audit/checkpoints.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const KEK = Buffer.alloc(32, 11).toString('base64url');

/** A sink whose deliver() waits until release() is called; `entered` resolves when it is called. */
function blockingSink(name: string) {
  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const called = new Promise<void>((resolve) => (entered = resolve));
  const received: number[] = [];
  const sink: CheckpointSink = {
    name,
    async deliver(_tenant, checkpoint) {
      entered();
      await gate;
      received.push(checkpoint.seq);
    },
  };
  return { sink, release, called, received };
}

describe('checkpoint delivery on postgres: no transaction open during the network call', { skip: !process.env.DATABASE_URL }, () => {
  let testDb: TestDatabase;
  let database: Database;
  let tenant: TenantRecord;

  before(async () => {
    testDb = await createTestDatabase('postgres');
    database = await openDatabase({ kind: 'postgres', url: testDb.url! });
    await migrateControl(database.db);
    tenant = await createTenant(database.db, { slug: 'lease' }, { kek: KEK });
    await withTenant(database.db, tenant, (trx) => appendAudit(trx, { type: 'passkey.sign_in', subject: 'alice', data: { credential_id: 'c', amr: ['hwk'] } }));
    await checkpointTenant(database.db, tenant, { kek: KEK, issuer: 'https://idp.example/t/lease', reason: 'test' });
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });

  const cursor = () => withTenant(database.db, tenant, async (trx) => (await sql<{ delivered_seq: string; lease_owner: string | null }>`
    select s.delivered_seq::text as delivered_seq, s.lease_owner from audit_checkpoint_sinks s where s.sink = 'blocking'`.execute(trx)).rows[0]);

  test('while the sink blocks: nothing idle in transaction, the cursor row locks at once, a second delivery leaves the sink alone', async () => {
    const blocking = blockingSink('blocking');
    const delivery = deliverPendingCheckpoints(database.db, tenant, [blocking.sink]);
    await blocking.called;
    try {
      const idle = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`.execute(database.db);
      assert.equal(idle.rows[0]!.n, 0, 'a backend is idle in transaction while the sink is being called');
      const locked = await withTenant(database.db, tenant, async (trx) => (await sql<{ sink: string }>`select s.sink from audit_checkpoint_sinks s where s.sink = 'blocking' for update nowait`.execute(trx)).rows);
      assert.equal(locked.length, 1, 'the cursor row is free to lock during the delivery');
      const second = blockingSink('blocking');
      second.release();
      const other = await deliverPendingCheckpoints(database.db, tenant, [second.sink]);
      assert.deepEqual(other, { delivered: 0, failures: [] });
      assert.deepEqual(second.received, [], 'the lease holder delivers, not a second node');
      assert.ok((await cursor())!.lease_owner, 'the sink is leased during the delivery');
    } finally {
      blocking.release();
    }
    assert.deepEqual(await delivery, { delivered: 1, failures: [] });
    assert.deepEqual(blocking.received, [1]);
    const after = await cursor();
    assert.equal(after!.delivered_seq, '1');
    assert.equal(after!.lease_owner, null, 'the lease is released after the delivery');
  });

  test('a lease taken over after it ran out: the old holder does not move the cursor', async () => {
    await checkpointTenant(database.db, tenant, { kek: KEK, issuer: 'https://idp.example/t/lease', reason: 'test', skipIfUnchanged: false });
    const slow = blockingSink('blocking');
    const delivery = deliverPendingCheckpoints(database.db, tenant, [slow.sink], { leaseMs: 1 });
    await slow.called;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Another node finds the lease expired, takes the sink and delivers checkpoint 2.
    const fast = blockingSink('blocking');
    fast.release();
    assert.deepEqual(await deliverPendingCheckpoints(database.db, tenant, [fast.sink]), { delivered: 1, failures: [] });
    assert.deepEqual(fast.received, [2]);
    slow.release();
    assert.deepEqual(await delivery, { delivered: 0, failures: [] }, 'the old holder lost its lease and reports nothing delivered');
    assert.equal((await cursor())!.delivered_seq, '2');
  });
});
