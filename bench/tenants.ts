// `npm run bench -- tenants`: many tenants on real PostgreSQL (issue 16). Provisions N tenants
// (BENCH_TENANTS, default 200 — a short run; 1000 in CI-sized runs, 10000 for the full one) in a
// throwaway database next to a Facet child with a tenant pool of 100, then reports:
//   - provisioning time per tenant (role, schema, every tenant migration, keys, first audit event),
//   - `facet migrate` over all tenants when every one is up to date (migrateAll), per tenant,
//   - the first discovery request to a cold tenant (pool miss: registry read, keys, clients,
//     provider build), p50/p99,
//   - a warm tenant's memory in the pool (heap after a full GC, before and after warming 100),
//   - discovery throughput with requests spread uniformly over all N tenants (pool of 100).
// Targets: cold first discovery ≤ 30 ms p99, ≤ 1 MiB per warm tenant, migrate ≤ 10 ms per
// up-to-date tenant. Writes bench/results/tenants.json.
//
// A long run can be split: BENCH_KEEP=1 keeps the database (its URL is printed) and
// BENCH_DATABASE_URL=<that URL> runs again on it, provisioning only the tenants still missing, so
// 10,000 tenants are provisioned once and measured again later on a quiet machine.
import os from 'node:os';
import { Agent, get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrateAll } from '../src/boot.ts';
import { createTenant } from '../src/tenancy/provision.ts';
import { listTenants } from '../src/tenancy/registry.ts';
import { closedLoop, percentile } from './_support/load.ts';
import { fixed, machine, table, writeResult } from './_support/report.ts';
import { startFacetChild } from './_support/servers.ts';
import { createBenchDatabase, existingBenchDatabase } from './_support/database.ts';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 200);
const POOL = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WORKERS = 10;
const PROVISION_PARALLEL = 2;
const KEEP = process.env.BENCH_KEEP === '1' || Boolean(process.env.BENCH_DATABASE_URL);
const TARGETS = { coldP99Ms: 30, warmMiB: 1, migrateMsPerTenant: 10 };

const slugOf = (i: number) => `bt-${String(i).padStart(5, '0')}`;

const keepAlive = new Agent({ keepAlive: true, maxSockets: 16 });

/** GET (keep-alive); resolves with status and milliseconds. */
function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    get(url, { agent: keepAlive }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    }).on('error', reject);
  });
}

const database = process.env.BENCH_DATABASE_URL ? await existingBenchDatabase(process.env.BENCH_DATABASE_URL) : await createBenchDatabase();
// The parent's configuration (the child's development KEK), for provisioning from this process.
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url, PUBLIC_URL: 'http://localhost' });
// Fresh connections every ~25 tenants: a backend that has created thousands of tenants holds
// them all in its catalog caches and scans those on every invalidation the other provisioning
// connection's DDL sends (perf on PostgreSQL 15: ~70 % of a backend's time in
// LocalExecuteInvalidationMessage after ~5,000 tenants, 0.2 s a tenant growing past 0.8 s).
const local = await openDatabase({ kind: 'postgres', url: database.url, poolSize: PROVISION_PARALLEL, maxUses: 100 });
let facet: Awaited<ReturnType<typeof startFacetChild>> | undefined;
let result: Record<string, unknown> | undefined;
try {
  console.log(`PostgreSQL ${database.backend.version} (synchronous_commit=${database.backend.synchronousCommit}, fsync=${database.backend.fsync}), tenant pool ${POOL}`);
  console.log(`${machine().cpus} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${TENANTS} tenants (BENCH_TENANTS)`);
  // A fresh database gets its control schema here (the child would do it at boot).
  await migrateAll(local);

  // 1. Provisioning, of the tenants not there yet (all of them on a fresh database). The mean per
  //    block of 1,000 shows whether the catalog's growth slows it down.
  const present = new Set((await listTenants(local.db)).map((t) => t.slug));
  const missing = Array.from({ length: TENANTS }, (_, i) => i).filter((i) => !present.has(slugOf(i)));
  const provisionMs: number[] = [];
  const blocks = new Map<number, number[]>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PROVISION_PARALLEL }, async () => {
      while (next < missing.length) {
        const i = missing[next++]!;
        const t0 = performance.now();
        await createTenant(local.db, { slug: slugOf(i), name: `Bench tenant ${i}` }, { kek: config.kek, actor: 'bench' });
        const ms = performance.now() - t0;
        provisionMs.push(ms);
        const block = Math.floor(i / 1000);
        blocks.set(block, [...(blocks.get(block) ?? []), ms]);
        if (provisionMs.length % 500 === 0) console.log(`  provisioned ${provisionMs.length} of ${missing.length} (${((performance.now() - started) / 1000).toFixed(0)} s, load average ${os.loadavg()[0]!.toFixed(1)})`);
      }
    }),
  );
  const provisionWallS = (performance.now() - started) / 1000;
  provisionMs.sort((a, b) => a - b);
  const byThousand = [...blocks.entries()].sort((a, b) => a[0] - b[0]).map(([block, ms]) => ({ from: block * 1000, count: ms.length, meanMs: ms.reduce((a, b) => a + b, 0) / ms.length }));

  // 2. `facet migrate` over every tenant, all up to date.
  const m0 = performance.now();
  const migrated = await migrateAll(local);
  const migrateMs = performance.now() - m0;
  const migrateErrors = migrated.tenants.filter((t) => t.error).length;

  // 3. The Facet child starts on the N tenants (its boot migrates all of them too).
  const b0 = performance.now();
  facet = await startFacetChild(database, { env: { FACET_TENANT_POOL_SIZE: String(POOL) }, execArgv: ['--expose-gc'], readyTimeoutMs: 600_000 });
  const bootS = (performance.now() - b0) / 1000;
  const base = `http://localhost:${facet.port}`;

  // 4 + 5. Cold first discovery; memory before and after the pool holds 100 warm tenants. One
  //    tenant (demo) is asked first, so the first pool miss measured is not also the process's
  //    first request (code compiled on first use): what a running server meets.
  for (let i = 0; i < 20; i += 1) await timedGet(`${base}/t/demo/.well-known/openid-configuration`);
  const memoryBefore = await facet.request<{ heapUsed: number; rss: number; collected: boolean; warmTenants: number }>({ op: 'memory' });
  const coldMs: number[] = [];
  const sample = Math.min(TENANTS, Math.max(POOL, 300));
  let memoryFull: typeof memoryBefore | undefined;
  for (let i = 0; i < sample; i += 1) {
    const { status, ms } = await timedGet(`${base}/t/${slugOf(i)}/.well-known/openid-configuration`);
    if (status !== 200) throw new Error(`cold discovery of ${slugOf(i)}: ${status}`);
    coldMs.push(ms);
    if (i + 1 === Math.min(POOL - 1, TENANTS)) memoryFull = await facet.request({ op: 'memory' });
  }
  coldMs.sort((a, b) => a - b);
  const warmed = memoryFull!.warmTenants - memoryBefore.warmTenants;
  const perTenantMiB = (memoryFull!.heapUsed - memoryBefore.heapUsed) / warmed / 2 ** 20;
  const rssPerTenantMiB = (memoryFull!.rss - memoryBefore.rss) / warmed / 2 ** 20;

  // 6. Discovery spread uniformly over all tenants (pool of 100: misses when N > 100).
  const uniform = await closedLoop(
    async () => {
      const { status } = await timedGet(`${base}/t/${slugOf(Math.floor(Math.random() * TENANTS))}/.well-known/openid-configuration`);
      return status === 200;
    },
    { workers: WORKERS, seconds: SECONDS, maxRequests: 1_000_000 },
  );

  result = {
    tenants: TENANTS,
    pool: POOL,
    provisioning: {
      provisioned: missing.length,
      alreadyPresent: TENANTS - missing.length,
      perTenantMs: provisionMs.length ? { p50: percentile(provisionMs, 0.5), p99: percentile(provisionMs, 0.99), mean: provisionMs.reduce((a, b) => a + b, 0) / provisionMs.length } : undefined,
      wallSeconds: provisionWallS,
      parallel: PROVISION_PARALLEL,
      byThousand,
    },
    migrate: { totalMs: migrateMs, perTenantMs: migrateMs / TENANTS, errors: migrateErrors, target: TARGETS.migrateMsPerTenant },
    boot: { seconds: bootS },
    coldDiscovery: { samples: coldMs.length, p50Ms: percentile(coldMs, 0.5), p99Ms: percentile(coldMs, 0.99), maxMs: coldMs.at(-1), target: TARGETS.coldP99Ms },
    warmTenantMemory: { warmed, heapMiBPerTenant: perTenantMiB, rssMiBPerTenant: rssPerTenantMiB, gcExposed: memoryBefore.collected, target: TARGETS.warmMiB },
    uniformDiscovery: { ...uniform, workers: WORKERS, connection: 'keep-alive' },
  };
} finally {
  keepAlive.destroy();
  await local.close().catch(() => {});
  await facet?.stop().catch(() => {});
  if (KEEP) console.log(`\ndatabase kept: BENCH_DATABASE_URL=${database.url}`);
  else await database.drop();
}

const r = result as any;
const met = (ok: boolean) => (ok ? 'yes' : 'NO');
const p = r.provisioning;
console.log();
console.log(
  table(
    ['measure', 'value', 'target', 'met'],
    [
      ['provisioning per tenant (p50 / p99 / mean ms)', p.perTenantMs ? `${fixed(p.perTenantMs.p50, 0)} / ${fixed(p.perTenantMs.p99, 0)} / ${fixed(p.perTenantMs.mean, 0)} (${p.provisioned} tenants, ${PROVISION_PARALLEL} at a time, ${fixed(p.wallSeconds, 0)} s in all)` : `none (all ${p.alreadyPresent} present)`, '-', '-'],
      ['facet migrate, all up to date (ms per tenant)', `${fixed(r.migrate.perTenantMs, 1)} (${fixed(r.migrate.totalMs / 1000, 1)} s for ${TENANTS}; errors ${r.migrate.errors})`, `≤ ${TARGETS.migrateMsPerTenant}`, met(r.migrate.perTenantMs <= TARGETS.migrateMsPerTenant)],
      ['Facet start with all tenants (s)', fixed(r.boot.seconds, 1), '-', '-'],
      ['cold tenant, first discovery (p50 / p99 / max ms)', `${fixed(r.coldDiscovery.p50Ms, 1)} / ${fixed(r.coldDiscovery.p99Ms, 1)} / ${fixed(r.coldDiscovery.maxMs, 1)} (${r.coldDiscovery.samples} tenants)`, `p99 ≤ ${TARGETS.coldP99Ms}`, met(r.coldDiscovery.p99Ms <= TARGETS.coldP99Ms)],
      ['warm tenant in the pool (heap MiB; RSS MiB)', `${fixed(r.warmTenantMemory.heapMiBPerTenant, 2)}; ${fixed(r.warmTenantMemory.rssMiBPerTenant, 2)} (${r.warmTenantMemory.warmed} warmed)`, `≤ ${TARGETS.warmMiB}`, met(r.warmTenantMemory.heapMiBPerTenant <= TARGETS.warmMiB)],
      ['discovery, uniform over all tenants (req/s, p50/p99 ms)', `${fixed(r.uniformDiscovery.rps, 0)}, ${fixed(r.uniformDiscovery.p50Ms, 1)} / ${fixed(r.uniformDiscovery.p99Ms, 1)} (errors ${r.uniformDiscovery.errors})`, '-', '-'],
    ],
  ),
);
if (p.byThousand.length > 1) {
  console.log('\nprovisioning by block of 1,000 tenants (mean ms per tenant):');
  console.log(table(['tenants', 'provisioned', 'mean ms'], p.byThousand.map((b: { from: number; count: number; meanMs: number }) => [`${b.from}–${b.from + 999}`, String(b.count), fixed(b.meanMs, 0)])));
}
const file = await writeResult('tenants', { bench: 'tenants', at: new Date().toISOString(), machine: { ...machine(), loadAverageAfter: os.loadavg() }, backend: database.backend, ...r });
console.log(`\nwritten ${file}`);
process.exit(0);
