// Export archives on real PostgreSQL: every format verifies offline; changing any single byte of
// an archive is rejected; a filtered export says it cannot prove completeness; memory does not
// grow with the row count (a child process with a small heap exports 20 k and then 200 k rows);
// the export job runs on BullMQ with the real Redis.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { archivePath, exportStatus, requestExport, runExport } from '../../src/audit/export.ts';
import { auditKeySet } from '../../src/audit/signing.ts';
import { verifyExport } from '../../src/audit/verify-export.ts';
import { createJobRunner } from '../../src/jobs/index.ts';
import { facetJobs } from '../../src/jobs/definitions.ts';
import { auditSettings } from '../../src/audit/settings.ts';
import type { ExportFormat } from '../../src/audit/rows.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { REDIS_URL, uniqueName } from '../ops/helpers.ts';

const KEK = Buffer.alloc(32, 4).toString('base64url');
const run = promisify(execFile);

describe('audit export archives', () => {
  let testDb: TestDatabase;
  let database: Database;
  let tenant: TenantRecord;
  let dir: string;
  const options = () => ({ kek: KEK, publicUrl: 'http://localhost:3000', dir, ttlMs: 3_600_000, batchSize: 7 });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'facet-exports-'));
    testDb = await createTestDatabase('postgres');
    database = await openDatabase({ kind: 'postgres', url: testDb.url! });
    await migrateControl(database.db);
    tenant = await createTenant(database.db, { slug: 'ledger' }, { kek: KEK });
    await withTenant(database.db, tenant, async (trx) => {
      for (let i = 0; i < 12; i += 1) {
        await appendAudit(trx, { type: 'passkey.sign_in', actor: `u${i % 3}`, subject: `u${i % 3}`, ip: '192.0.2.1', userAgent: 'Agent "quoted", with comma\nand newline', data: { credential_id: `c${i}`, amr: ['hwk'], note: 'ünï ✓' } });
      }
    });
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function exportTo(format: ExportFormat, filters: Record<string, unknown> = {}, of: TenantRecord = tenant) {
    const id = await withTenant(database.db, of, (trx) => requestExport(trx, { format, filters: filters as any, actor: 'test' }));
    await runExport(database.db, of, id, options());
    return { id, file: archivePath(dir, of.slug, id) };
  }

  const keys = (of: TenantRecord = tenant) => withTenant(database.db, of, (trx) => auditKeySet(trx));

  for (const format of ['jsonl', 'csv', 'ocsf'] as const) {
    test(`${format}: verifies with the published keys; every single changed byte is rejected`, async () => {
      // A small tenant keeps the archive small: each of its bytes is changed once and verified.
      const tiny = await createTenant(database.db, { slug: `tiny-${format}` }, { kek: KEK });
      await withTenant(database.db, tiny, (trx) => appendAudit(trx, { type: 'passkey.sign_in', subject: 'u', ip: '192.0.2.1', userAgent: 'UA "q", x', data: { credential_id: 'c', amr: ['hwk'] } }));
      const { file } = await exportTo(format, {}, tiny);
      const pinned = await keys(tiny);
      const verdict = await verifyExport(file, { keys: pinned });
      assert.deepEqual(verdict.problems, []);
      assert.ok(verdict.rows >= 3, `${verdict.rows} rows`);
      assert.equal(verdict.manifest!.complete, true);
      const original = readFileSync(file);
      const copy = path.join(dir, `tampered-${format}.tar`);
      writeFileSync(copy, original);
      let missed = 0;
      const missedAt: number[] = [];
      const handle = openSync(copy, 'r+');
      try {
        for (let i = 0; i < original.length; i += 1) {
          // Change one byte in place, verify, put it back.
          writeSync(handle, Buffer.of(original[i]! ^ (i % 2 ? 0x01 : 0x20)), 0, 1, i);
          const result = await verifyExport(copy, { keys: pinned });
          writeSync(handle, original, i, 1, i);
          if (result.ok) {
            missed += 1;
            missedAt.push(i);
          }
        }
      } finally {
        closeSync(handle);
      }
      assert.equal(missed, 0, `undetected changes at offsets ${missedAt.slice(0, 10).join(', ')}`);
      // Truncated or extended archives are rejected too.
      writeFileSync(copy, original.subarray(0, original.length - 512));
      assert.equal((await verifyExport(copy, { keys: pinned })).ok, false);
      writeFileSync(copy, Buffer.concat([original, Buffer.alloc(512)]));
      assert.equal((await verifyExport(copy, { keys: pinned })).ok, false);
    });
  }

  test('a key set that is not the tenant\'s rejects the signature; without --jwks the verdict says so', async () => {
    const { file } = await exportTo('jsonl');
    const other = await createTenant(database.db, { slug: 'other' }, { kek: KEK });
    await runExport(database.db, other, await withTenant(database.db, other, (trx) => requestExport(trx, { format: 'jsonl', filters: {}, actor: 'test' })), options());
    const foreign = await withTenant(database.db, other, (trx) => auditKeySet(trx));
    const verdict = await verifyExport(file, { keys: foreign });
    assert.equal(verdict.ok, false);
    assert.match(verdict.problems.join('\n'), /not in the published key set|does not verify/);
    const unpinned = await verifyExport(file);
    assert.equal(unpinned.ok, true);
    assert.match(unpinned.notes.join('\n'), /--jwks/);
  });

  test('a filtered export proves its rows, and says it cannot prove completeness', async () => {
    const { file } = await exportTo('jsonl', { subject: 'u1' });
    const verdict = await verifyExport(file, { keys: await keys() });
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.rows, 4);
    assert.equal(verdict.manifest!.complete, false);
    assert.deepEqual(verdict.manifest!.filters, { subject: 'u1' });
    assert.match(verdict.notes.join('\n'), /cannot prove that no matching row was left out/);
  });

  test('rows swapped in a complete export break the chain at the line where it happens', async () => {
    // The archive keeps its size and structure; lines 2 and 3 of the data file trade places.
    const { file } = await exportTo('jsonl');
    const text = readFileSync(file, 'latin1');
    const line2 = text.indexOf('\n', text.indexOf('events.jsonl') + 512) + 1;
    const line3 = text.indexOf('\n', line2) + 1;
    const line4 = text.indexOf('\n', line3) + 1;
    const swapped = text.slice(0, line2) + text.slice(line3, line4) + text.slice(line2, line3) + text.slice(line4);
    const copy = path.join(dir, 'swapped.tar');
    writeFileSync(copy, Buffer.from(swapped, 'latin1'));
    const verdict = await verifyExport(copy, { keys: await keys() });
    assert.equal(verdict.ok, false);
    assert.equal(verdict.firstBadLine, 2);
    assert.match(verdict.problems[0]!, /events\.jsonl line 2: event \d+ does not link to event \d+/);
    assert.match(verdict.problems.join('\n'), /SHA-256/);
  });

  test('memory stays flat: 20 k and 200 k rows in a child process with a 64 MB heap', { timeout: 300_000 }, async () => {
    const big = await createTenant(database.db, { slug: 'bulk' }, { kek: KEK });
    const fill = (n: number) =>
      withTenant(database.db, big, (trx) =>
        sql`insert into audit_events (type, subject, ip, data, prev_hash, hash)
            select 'token.issued', 'user-' || (g % 1000), '198.51.100.' || (g % 250), jsonb_build_object('kinds', jsonb_build_array('access_token'), 'grant_type', 'authorization_code', 'n', g), '', ''
            from generate_series(1, ${n}) g`.execute(trx),
      );
    const child = async () => {
      const { stdout } = await run(process.execPath, ['--max-old-space-size=64', '--max-semi-space-size=4', path.join(import.meta.dirname, 'fixtures/export-memory.ts'), testDb.url!, 'bulk', dir, 'jsonl'], { maxBuffer: 1 << 20 });
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as { id: string; rows: number; seconds: number; baselineRss: number; peakRss: number; peakHeap: number };
    };
    await fill(20_000);
    const small = await child();
    await fill(180_000);
    const large = await child();
    const mb = (n: number) => Math.round(n / 1048576);
    console.log(`export ${small.rows} rows: ${small.seconds.toFixed(1)} s, peak RSS ${mb(small.peakRss)} MB; ${large.rows} rows: ${large.seconds.toFixed(1)} s, peak RSS ${mb(large.peakRss)} MB, peak heap ${mb(large.peakHeap)} MB`);
    assert.ok(large.rows >= 200_000);
    const archiveBytes = readFileSync(archivePath(dir, 'bulk', large.id)).length;
    assert.ok(archiveBytes > 40 * 1048576, `a ${mb(archiveBytes)} MB archive: larger than the heap the child had`);
    // What the exporter holds is on the V8 heap (rows, lines, write buffers): it must not grow with
    // the rows, and neither may the process's peak RSS.
    assert.ok(large.peakHeap < small.peakHeap * 1.5 + 8 * 1048576, `peak heap grew from ${mb(small.peakHeap)} MB to ${mb(large.peakHeap)} MB with 10x the rows`);
    assert.ok(large.peakRss - small.peakRss < 48 * 1048576, `peak RSS grew from ${mb(small.peakRss)} MB to ${mb(large.peakRss)} MB with 10x the rows`);
    const verdict = await verifyExport(archivePath(dir, 'bulk', large.id));
    assert.equal(verdict.ok, true, verdict.problems.join('\n'));
    assert.equal(verdict.rows, large.rows);
  });

  test('the export job on BullMQ (real Redis): enqueued, run by a worker, done, idempotent', { timeout: 60_000 }, async () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const logger = { info() {}, warn() {}, error() {} };
    const runner = createJobRunner({ redis, prefix: uniqueName('facet_audit_test'), jobs: facetJobs({ db: database.db, audit: { kek: KEK, publicUrl: 'http://localhost:3000', settings: { ...auditSettings({}), exportDir: dir } } }), logger });
    try {
      await runner.startWorker();
      const id = await withTenant(database.db, tenant, (trx) => requestExport(trx, { format: 'ocsf', filters: {}, actor: 'test' }));
      await runner.enqueue('audit-export', { tenant: tenant.slug, exportId: id }, { jobId: `audit-export-${id}` });
      const deadline = Date.now() + 30_000;
      let status;
      do {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = await withTenant(database.db, tenant, (trx) => exportStatus(trx, id));
      } while (status?.status !== 'done' && status?.status !== 'failed' && Date.now() < deadline);
      assert.equal(status?.status, 'done', status?.error ?? '');
      assert.equal((await verifyExport(archivePath(dir, tenant.slug, id), { keys: await keys() })).ok, true);
      // Running it again leaves the finished export alone.
      const before = status.sha256;
      const again = await runner.run('audit-export', { tenant: tenant.slug, exportId: id });
      assert.equal(again.status, 'completed');
      assert.equal((await withTenant(database.db, tenant, (trx) => exportStatus(trx, id)))?.sha256, before);
    } finally {
      await runner.close();
      redis.disconnect();
    }
  });
});
