// `npm run bench -- audit` (issue 13), on real PostgreSQL in a throwaway database:
//   - appending one event per transaction, as the sign-in path does (the chain trigger and its
//     lock): per-event latency p50/p99 with 1 and 8 concurrent writers;
//   - exporting the whole trail to JSON Lines at 100 k and at BENCH_AUDIT_ROWS (default 1 M) rows,
//     in a child process: seconds and peak RSS (peak RSS must not grow with the row count), once
//     with Node's default heap settings (V8 lets garbage pile up before collecting) and once with
//     the heap capped at 64 MB (what the exporter really holds: it must fit);
//   - `facet audit verify` of the large export (seconds, rows/s);
//   - search latency p50/p99 at the large size, per filter (a page of 100, newest first).
// Writes bench/results/audit.json.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/client.ts';
import { migrateControl } from '../src/db/migrations.ts';
import { withTenant } from '../src/db/tenant-scope.ts';
import { createTenant } from '../src/tenancy/provision.ts';
import { appendAudit } from '../src/audit/audit-log.ts';
import { archivePath } from '../src/audit/export.ts';
import { searchAudit, type AuditFilters } from '../src/audit/search.ts';
import { verifyExport } from '../src/audit/verify-export.ts';
import { percentile } from './_support/load.ts';
import { fixed, machine, table, writeResult } from './_support/report.ts';
import { createBenchDatabase } from './_support/database.ts';

const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const SMALL = Math.min(100_000, ROWS);
const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? 1000);
const KEK = Buffer.alloc(32, 4).toString('base64url');
const run = promisify(execFile);
const fixture = path.resolve(import.meta.dirname, '../test/audit/fixtures/export-memory.ts');

const bench = await createBenchDatabase();
const dir = mkdtempSync(path.join(tmpdir(), 'facet-bench-audit-'));
const database = await openDatabase({ kind: 'postgres', url: bench.url });
const mb = (n: number) => Math.round(n / 1048576);
try {
  await migrateControl(database.db);
  const tenant = await createTenant(database.db, { slug: 'bench' }, { kek: KEK });

  // 1. Appends.
  const appendRows: Array<Array<string | number>> = [];
  const appends: Record<string, { p50: number; p99: number; perSecond: number }> = {};
  for (const writers of [1, 8]) {
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = 0; i < APPENDS / writers; i += 1) {
          const t0 = performance.now();
          await withTenant(database.db, tenant, (trx) => appendAudit(trx, { type: 'passkey.sign_in', actor: 'u', subject: 'u', clientId: 'web', ip: '192.0.2.1', data: { credential_id: 'c', amr: ['hwk'], flow: 'sign-in' } }));
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    appends[`${writers}`] = { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), perSecond: latencies.length / seconds };
    appendRows.push([`append, ${writers} writer${writers > 1 ? 's' : ''}`, `${fixed(appends[`${writers}`]!.p50, 2)} ms`, `${fixed(appends[`${writers}`]!.p99, 2)} ms`, `${fixed(appends[`${writers}`]!.perSecond, 0)}/s`]);
  }

  // 2. Fill, then export at both sizes.
  let count = APPENDS;
  const fillTo = async (target: number) => {
    while (count < target) {
      const n = Math.min(100_000, target - count);
      await withTenant(database.db, tenant, (trx) =>
        sql`insert into audit_events (type, actor, subject, client_id, ip, user_agent, data, prev_hash, hash)
            select (array['passkey.sign_in','factor.otp.failed','token.issued','consent.granted'])[1 + g % 4], 'user-' || (g % 5000), 'user-' || (g % 5000),
                   'client-' || (g % 20), '198.51.' || (g % 200) || '.' || (g % 250), 'Mozilla/5.0 bench', jsonb_build_object('n', g, 'flow', 'sign-in'), '', ''
            from generate_series(1, ${n}) g`.execute(trx),
      );
      count += n;
    }
    await sql.raw(`analyze ${tenant.schema}.audit_events`).execute(database.db);
  };
  const exportOnce = async (flags: string[]) => {
    const { stdout } = await run(process.execPath, [...flags, fixture, bench.url, 'bench', dir, 'jsonl'], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { id: string; rows: number; seconds: number; peakRss: number; peakHeap: number };
  };
  const exportRows: Array<Array<string | number>> = [];
  const exports: Record<string, unknown> = {};
  let largeId = '';
  for (const size of [SMALL, ROWS]) {
    await fillTo(size);
    for (const [label, flags] of [
      ['default heap', []],
      ['64 MB old space, 4 MB semi-space', ['--max-old-space-size=64', '--max-semi-space-size=4']],
    ] as const) {
      const result = await exportOnce([...flags]);
      exports[`${size}:${label}`] = result;
      exportRows.push([`export ${result.rows} rows (${label})`, `${fixed(result.seconds)} s`, `${mb(result.peakRss)} MB peak RSS`, `${mb(result.peakHeap)} MB peak heap`]);
      if (size === ROWS) largeId = result.id;
    }
  }

  // 3. Verify the large export.
  const file = archivePath(dir, 'bench', largeId);
  const t0 = performance.now();
  const verdict = await verifyExport(file);
  const verifySeconds = (performance.now() - t0) / 1000;
  if (!verdict.ok) throw new Error(`verify failed: ${verdict.problems.join('; ')}`);
  const verifyRow = [`facet audit verify (${verdict.rows} rows, ${mb(statSync(file).size)} MB)`, `${fixed(verifySeconds)} s`, `${fixed(verdict.rows / verifySeconds, 0)} rows/s`, `${mb(process.memoryUsage().rss)} MB RSS after`];

  // 4. Search at the large size.
  const since = new Date(Date.now() - 3_600_000);
  const searches: Array<[string, AuditFilters]> = [
    ['no filter', {}],
    ['type', { type: ['factor.otp.failed'] }],
    ['category', { category: ['authentication'] }],
    ['outcome', { outcome: 'failure' }],
    ['subject', { subject: 'user-4242' }],
    ['actor', { actor: 'user-17' }],
    ['client', { client: 'client-7' }],
    ['IP', { ip: '198.51.42.42' }],
    ['time range', { since, until: new Date() }],
    ['subject + type', { subject: 'user-4242', type: ['consent.granted'] }],
  ];
  const searchRows: Array<Array<string | number>> = [];
  const search: Record<string, { p50: number; p99: number; rows: number }> = {};
  for (const [label, filters] of searches) {
    const latencies: number[] = [];
    let rows = 0;
    for (let i = 0; i < 40; i += 1) {
      const s0 = performance.now();
      const page = await withTenant(database.db, tenant, (trx) => searchAudit(trx, { filters, order: 'desc', limit: 100 }));
      latencies.push(performance.now() - s0);
      rows = page.events.length;
    }
    latencies.sort((a, b) => a - b);
    search[label] = { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), rows };
    searchRows.push([`search: ${label}`, `${fixed(search[label]!.p50, 1)} ms`, `${fixed(search[label]!.p99, 1)} ms`, `${rows} rows`]);
  }

  console.log(`audit trail at ${count} rows (${bench.backend.version}, synchronous_commit=${bench.backend.synchronousCommit})`);
  console.log(table(['what', 'p50 / time', 'p99 / memory', 'rate / rows'], [...appendRows, ...exportRows, verifyRow, ...searchRows]));
  const out = await writeResult('audit', { machine: machine(), backend: bench.backend, rows: count, appends, exports, verify: { seconds: verifySeconds, rows: verdict.rows }, search });
  console.log(`wrote ${out}`);
} finally {
  await database.close();
  await bench.drop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
