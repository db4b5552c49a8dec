// Checkpoint delivery to external sinks that fail, on real PostgreSQL and embedded PGlite (and
// real Redis for the BullMQ run): an HTTP sink answering 503 and then 200, a sink directory that
// cannot be written and then can. The scheduled audit-checkpoint job fails and is retried with back-off by the
// runner (in-process without Redis, BullMQ with it); every failure is an audit event; a sink that
// stays down keeps its checkpoints pending and later receives all of them, in order: none is lost.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { auditSettings } from '../../src/audit/settings.ts';
import { deliverPendingCheckpoints, deliverWithRetry, directorySink, httpSink, readCheckpointDir, verifyChainAgainstCheckpoints } from '../../src/audit/checkpoints.ts';
import { archivePath, exportStatus, requestExport, runExport } from '../../src/audit/export.ts';
import { auditKeySet } from '../../src/audit/signing.ts';
import { createJobRunner } from '../../src/jobs/index.ts';
import { facetJobs } from '../../src/jobs/definitions.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';
import { REDIS_URL, uniqueName } from '../ops/helpers.ts';

const KEK = Buffer.alloc(32, 9).toString('base64url');
const logger = { info() {}, warn() {}, error() {} };

/** An HTTP checkpoint sink that answers 503 `failFirst` times, then 204; `down` makes it answer 503 until lifted. */
function flakySink() {
  const state = { failFirst: 0, down: false, calls: 0, received: [] as Array<{ tenant: string; seq: number; jws: string }> };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.calls += 1;
      if (state.down || state.failFirst > 0) {
        state.failFirst = Math.max(0, state.failFirst - 1);
        res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
        return;
      }
      state.received.push(JSON.parse(body) as { tenant: string; seq: number; jws: string });
      res.writeHead(204).end();
    });
  });
  return { state, server };
}

for (const backend of backends) describe(`checkpoint delivery on ${backend}: retries, failures recorded, nothing lost`, () => {
  let testDb: TestDatabase;
  let database: Database;
  const sink = flakySink();
  let url: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'facet-checkpoint-delivery-'));
    testDb = await createTestDatabase(backend);
    database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
    await migrateControl(database.db);
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(sink.server.address() as { port: number }).port}/checkpoints`;
  });
  after(async () => {
    sink.server.close();
    await database?.close();
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function freshTenant(slug: string): Promise<TenantRecord> {
    const tenant = await createTenant(database.db, { slug }, { kek: KEK });
    await withTenant(database.db, tenant, (trx) => appendAudit(trx, { type: 'passkey.sign_in', subject: 'alice', data: { credential_id: 'c', amr: ['hwk'] } }));
    return tenant;
  }
  const events = (tenant: TenantRecord, type: string) =>
    withTenant(database.db, tenant, async (trx) => (await sql<{ data: any }>`select data from audit_events where type = ${type} order by id`.execute(trx)).rows.map((r) => r.data));
  const storedSeqs = (tenant: TenantRecord) =>
    withTenant(database.db, tenant, async (trx) => (await sql<{ seq: string }>`select seq::text as seq from audit_checkpoints order by seq`.execute(trx)).rows.map((r) => Number(r.seq)));
  const jobs = (extra: Partial<ReturnType<typeof auditSettings>> = {}) =>
    facetJobs({ db: database.db, audit: { kek: KEK, publicUrl: 'http://localhost:3000', settings: { ...auditSettings({}), exportDir: path.join(dir, 'exports'), checkpointUrl: url, ...extra }, checkpointBackoffMs: 50 } });

  test('without Redis: the job fails on 503, is retried with back-off in-process, and delivers every checkpoint in order', async () => {
    const tenant = await freshTenant('flaky-inline');
    sink.state.failFirst = 2;
    sink.state.received.length = 0;
    const runner = createJobRunner({ jobs: jobs(), logger });
    try {
      const outcome = await runner.run('audit-checkpoint');
      assert.equal(outcome.status, 'completed', outcome.error ?? '');
      assert.equal(outcome.attempts, 3, 'two failed attempts, then delivered');
    } finally {
      await runner.close();
    }
    // Each failure is in the chain (so the next attempt signs a new head): every stored
    // checkpoint reached the sink, oldest first.
    const failures = await events(tenant, 'audit.checkpoint_sink_failed');
    assert.deepEqual(failures.map((f) => [f.seq, f.attempt, f.sink, f.final]), [[1, 1, url, false], [1, 2, url, false]]);
    assert.match(failures[0].error, /answered 503/);
    const seqs = await storedSeqs(tenant);
    assert.deepEqual(sink.state.received.filter((r) => r.tenant === tenant.slug).map((r) => r.seq), seqs);
    assert.deepEqual(await events(tenant, 'audit.checkpoint_delivered'), [{ seq: 1, sink: url, attempts: 3 }]);
  });

  test('with Redis: BullMQ retries the failing job with back-off until the sink answers', { timeout: 60_000 }, async () => {
    const tenant = await freshTenant('flaky-bullmq');
    sink.state.failFirst = 1;
    sink.state.received.length = 0;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const runner = createJobRunner({ redis, prefix: uniqueName('facet_cp_delivery'), jobs: jobs(), logger });
    try {
      await runner.startWorker();
      const outcome = await runner.run('audit-checkpoint');
      assert.equal(outcome.status, 'completed', outcome.error ?? '');
      assert.ok(outcome.attempts >= 2, `${outcome.attempts} attempts`);
    } finally {
      await runner.close();
      redis.disconnect();
    }
    assert.equal((await events(tenant, 'audit.checkpoint_sink_failed')).length, 1);
    assert.deepEqual(sink.state.received.filter((r) => r.tenant === tenant.slug).map((r) => r.seq), await storedSeqs(tenant));
  });

  test('a sink down for longer than every attempt: the job fails, checkpoints stay pending, and all arrive once it is back', async () => {
    const tenant = await freshTenant('down-long');
    sink.state.down = true;
    sink.state.received.length = 0;
    const runner = createJobRunner({ jobs: jobs(), logger });
    try {
      const outcome = await runner.run('audit-checkpoint');
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.attempts, 5);
      assert.match(outcome.error!, /down-long: checkpoint delivery failed: .* at checkpoint 1 \(attempt 5\): .*503/);
      const failures = await events(tenant, 'audit.checkpoint_sink_failed');
      assert.equal(failures.length, 5);
      assert.equal(failures.at(-1).final, true, 'the last attempt says so');
      assert.equal(sink.state.received.length, 0);
      // More events and checkpoints while the sink is down.
      await withTenant(database.db, tenant, (trx) => appendAudit(trx, { type: 'passkey.sign_in', subject: 'bob', data: { credential_id: 'd', amr: ['hwk'] } }));
      sink.state.down = false;
      const next = await runner.run('audit-checkpoint');
      assert.equal(next.status, 'completed', next.error ?? '');
    } finally {
      await runner.close();
    }
    const seqs = await storedSeqs(tenant);
    assert.ok(seqs.length >= 6, `${seqs.length} checkpoints`);
    assert.deepEqual(sink.state.received.filter((r) => r.tenant === tenant.slug).map((r) => r.seq), seqs, 'every checkpoint, in order, none lost');
    // The delivered copies verify against the chain.
    const keys = await withTenant(database.db, tenant, (trx) => auditKeySet(trx));
    const report = await withTenant(database.db, tenant, (trx) =>
      verifyChainAgainstCheckpoints(trx, { slug: tenant.slug, checkpoints: sink.state.received.filter((r) => r.tenant === tenant.slug).map((r) => r.jws), keys }),
    );
    assert.deepEqual(report.problems, []);
    // Nothing left to deliver: a further delivery sends nothing.
    const calls = sink.state.calls;
    assert.deepEqual(await deliverPendingCheckpoints(database.db, tenant, [httpSink(url)]), { delivered: 0, failures: [] });
    assert.equal(sink.state.calls, calls);
  });

  test('an unwritable sink directory does not fail the export; its checkpoint arrives once the directory is writable', async () => {
    const tenant = await freshTenant('dir-blocked');
    const sinkDir = path.join(dir, 'sink');
    // <sinkDir>/<tenant> is a file where the tenant's folder must go: every write fails (even as root).
    mkdirSync(sinkDir, { recursive: true });
    writeFileSync(path.join(sinkDir, tenant.slug), 'not a directory');
    const sinks = [directorySink(sinkDir)];
    const exportDir = path.join(dir, 'exports');
    const id = await withTenant(database.db, tenant, (trx) => requestExport(trx, { format: 'jsonl', filters: {}, actor: 'test' }));
    await runExport(database.db, tenant, id, { kek: KEK, publicUrl: 'http://localhost:3000', dir: exportDir, ttlMs: 3_600_000, sinks });
    assert.equal((await withTenant(database.db, tenant, (trx) => exportStatus(trx, id)))?.status, 'done', 'the export does not depend on the sink');
    assert.ok(readdirSync(path.join(exportDir, tenant.slug)).includes(path.basename(archivePath(exportDir, tenant.slug, id))));
    const failed = await events(tenant, 'audit.checkpoint_sink_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].sink, `dir:${sinkDir}`);
    assert.match(failed[0].error, /EEXIST|ENOTDIR/);
    // The bounded in-process retry: the operator fixes the directory during the back-off.
    const delivery = await deliverWithRetry(database.db, tenant, sinks, {
      attempts: 3,
      backoffMs: 10,
      sleep: async () => rmSync(path.join(sinkDir, tenant.slug), { force: true }),
    });
    assert.deepEqual(delivery.failures, []);
    const copies = await readCheckpointDir(path.join(sinkDir, tenant.slug));
    assert.equal(copies.jws.length, (await storedSeqs(tenant)).length);
    assert.ok(copies.keys);
    assert.equal((await events(tenant, 'audit.checkpoint_delivered')).length, 1);
  });
});
