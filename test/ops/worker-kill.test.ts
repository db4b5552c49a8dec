// A worker killed mid-job (issue 17, chaos suite): a `facet worker` process is SIGKILLed while it
// runs an audit export, a new one starts, and every job runs exactly once in effect: all exports
// done, one `audit.exported` event and one signed checkpoint each, archives matching their
// recorded digest, every housekeeping job completed. A retried export used to sign a second
// checkpoint, and an overlapping run could publish twice. Own redis-server, own PostgreSQL
// database on the shared server (needs DATABASE_URL), job lock 2 s (the default 30 s would make
// the retry wait up to a minute).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { openDatabase } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import { installationPrefix } from '../../src/tenancy/registry.ts';
import { sql } from 'kysely';
import { archivePath, exportStatus, purgeExpiredExports, requestExport, runExport } from '../../src/audit/export.ts';
import { loadConfig } from '../../src/config/index.ts';
import { facetJobs } from '../../src/jobs/definitions.ts';
import { createJobRunner } from '../../src/jobs/index.ts';
import { auditSettings } from '../../src/audit/settings.ts';
import { createTestDatabase, realPostgresUrl } from '../support/database.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { runWorkerKill } from '../chaos/worker-kill.ts';
import { recordingLogger } from './helpers.ts';

test('a worker SIGKILLed mid-job: a new worker finishes every job, each exactly once in effect', { timeout: 120_000, skip: realPostgresUrl ? false : 'needs DATABASE_URL' }, async () => {
  const testDb = await createTestDatabase('postgres');
  const redisServer = await startRedisServer();
  const exportDir = mkdtempSync(path.join(tmpdir(), 'facet-worker-kill-'));
  const database = await openDatabase({ kind: 'postgres', url: testDb.url! });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const config = loadConfig({ NODE_ENV: 'test' });
  let producer: ReturnType<typeof createJobRunner> | undefined;
  try {
    await migrateControl(database.db);
    const tenant = await createTenant(database.db, { slug: 'ledger' }, { kek: config.kek });
    // The app's side: the same job definitions and queue as `facet worker`, used only to enqueue.
    producer = createJobRunner({
      redis,
      prefix: `facet:${await installationPrefix(database.db)}`,
      jobs: facetJobs({ db: database.db, audit: { kek: config.kek, publicUrl: config.publicUrl, settings: { ...auditSettings({}), exportDir } } }),
      logger: recordingLogger(),
    });
    const report = await runWorkerKill({
      databaseUrl: testDb.url!,
      redisUrl: redisServer.url,
      tenant: 'ledger',
      exportDir,
      lockMs: 2000,
      fillerRows: 20_000,
      exports: 4,
      async requestExport() {
        const id = await withTenant(database.db, tenant, (trx) => requestExport(trx, { format: 'jsonl', filters: {}, actor: 'test' }));
        const queued = await producer!.enqueue('audit-export', { tenant: tenant.slug, exportId: id }, { jobId: `audit-export-${id}` });
        assert.equal(queued, `audit-export-${id}`, 'queued in Redis, not run here');
        return id;
      },
      async enqueue(name, jobId) {
        await producer!.enqueue(name, {}, { jobId });
      },
    });
    console.log([...report.notes, ...report.checks.map((c) => `${c.ok ? 'ok' : 'FAILED'} ${c.name}: ${c.detail}`)].join('\n'));
    for (const check of report.checks) assert.ok(check.ok, `${check.name}: ${check.detail}`);
    assert.ok(report.recoveryMs < 30_000, `jobs finished ${report.recoveryMs} ms after the kill`);

    // The killed run's temporary files: the purge job removes them once untouched for an hour.
    const folder = path.join(exportDir, 'ledger');
    // Whether the kill left one depends on the phase it hit (it may have been checkpointing before
    // writing); a stale one is made when it did not, so the purge is always shown.
    if (!readdirSync(folder).some((name) => name.startsWith('.audit-export-'))) writeFileSync(path.join(folder, '.audit-export-killed-run.data'), 'a run killed before it finished');
    const leftovers = readdirSync(folder).filter((name) => name.startsWith('.audit-export-'));
    assert.ok(leftovers.length >= 1);
    const anHourAgo = new Date(Date.now() - 61 * 60_000);
    for (const name of leftovers) utimesSync(path.join(folder, name), anHourAgo, anHourAgo);
    writeFileSync(path.join(folder, '.audit-export-in-progress.data'), 'a run still writing');
    await purgeExpiredExports(database.db, tenant, exportDir);
    assert.deepEqual(readdirSync(folder).filter((name) => name.startsWith('.audit-export-')), ['.audit-export-in-progress.data'], 'stale temporary files removed, a fresh one kept');

    // Two runs of one export at once (a worker that only looked dead, its lock lapsed): one publishes.
    const id = await withTenant(database.db, tenant, (trx) => requestExport(trx, { format: 'csv', filters: {}, actor: 'test' }));
    const runOptions = { kek: config.kek, publicUrl: config.publicUrl, dir: exportDir, ttlMs: 3_600_000 };
    const outcomes = await Promise.all([runExport(database.db, tenant, id, runOptions), runExport(database.db, tenant, id, runOptions)]);
    assert.deepEqual(outcomes.map((o) => o.status), ['done', 'done']);
    const counts = await withTenant(database.db, tenant, async (trx) => ({
      exported: (await sql<{ n: number }>`select count(*)::int as n from audit_events where type = 'audit.exported' and data->>'export_id' = ${id}`.execute(trx)).rows[0]!.n,
      checkpoints: (await sql<{ n: number }>`select count(*)::int as n from audit_checkpoints where reason = ${`export ${id}`}`.execute(trx)).rows[0]!.n,
      sha256: (await exportStatus(trx, id))!.sha256,
    }));
    assert.deepEqual({ exported: counts.exported, checkpoints: counts.checkpoints }, { exported: 1, checkpoints: 1 });
    assert.equal(createHash('sha256').update(readFileSync(archivePath(exportDir, 'ledger', id))).digest('hex'), counts.sha256);
  } finally {
    await producer?.close();
    redis.disconnect();
    await database.close();
    await redisServer.stop();
    await testDb.drop();
    rmSync(exportDir, { recursive: true, force: true });
  }
});
