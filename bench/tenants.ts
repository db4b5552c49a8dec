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
import os from 'node:os';
import { Agent, get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrateAll } from '../src/boot.ts';
import { createTenant } from '../src/tenancy/provision.ts';
import { closedLoop, percentile } from './_support/load.ts';
import { fixed, machine, table, writeResult } from './_support/report.ts';
import { startFacetChild } from './_support/servers.ts';
import { createBenchDatabase } from './_support/database.ts';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 200);
const POOL = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WORKERS = 10;
const PROVISION_PARALLEL = 2;
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

const database = await createBenchDatabase();
const facet = await startFacetChild(database, { env: { FACET_TENANT_POOL_SIZE: String(POOL) }, execArgv: ['--expose-gc'] });
const base = `http://localhost:${facet.port}`;
// The child's configuration (same development KEK), for provisioning from this process.
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url, PUBLIC_URL: base });
const local = await openDatabase({ kind: 'postgres', url: database.url, poolSize: PROVISION_PARALLEL });
let result: Record<string, unknown> | undefined;
try {
  console.log(`Facet on PostgreSQL ${database.backend.version} (synchronous_commit=${database.backend.synchronousCommit}, fsync=${database.backend.fsync}), tenant pool ${POOL}`);
  console.log(`${machine().cpus} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${TENANTS} tenants (BENCH_TENANTS)`);

  // 1. Provisioning.
  const provisionMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PROVISION_PARALLEL }, async () => {
      while (next < TENANTS) {
        const i = next++;
        const t0 = performance.now();
        await createTenant(local.db, { slug: slugOf(i), name: `Bench tenant ${i}` }, { kek: config.kek, actor: 'bench' });
        provisionMs.push(performance.now() - t0);
        if ((i + 1) % 500 === 0) console.log(`  provisioned ${i + 1} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
    }),
  );
  const provisionWallS = (performance.now() - started) / 1000;
  provisionMs.sort((a, b) => a - b);

  // 2. `facet migrate` over every tenant, all up to date.
  const m0 = performance.now();
  const migrated = await migrateAll(local);
  const migrateMs = performance.now() - m0;
  const migrateErrors = migrated.tenants.filter((t) => t.error).length;

  // 3 + 4. Cold first discovery; memory before and after the pool holds 100 warm tenants.
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

  // 5. Discovery spread uniformly over all tenants (pool of 100: misses when N > 100).
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
    provisioning: { perTenantMs: { p50: percentile(provisionMs, 0.5), p99: percentile(provisionMs, 0.99), mean: provisionMs.reduce((a, b) => a + b, 0) / provisionMs.length }, wallSeconds: provisionWallS, parallel: PROVISION_PARALLEL },
    migrate: { totalMs: migrateMs, perTenantMs: migrateMs / TENANTS, errors: migrateErrors, target: TARGETS.migrateMsPerTenant },
    coldDiscovery: { samples: coldMs.length, p50Ms: percentile(coldMs, 0.5), p99Ms: percentile(coldMs, 0.99), target: TARGETS.coldP99Ms },
    warmTenantMemory: { warmed, heapMiBPerTenant: perTenantMiB, rssMiBPerTenant: rssPerTenantMiB, gcExposed: memoryBefore.collected, target: TARGETS.warmMiB },
    uniformDiscovery: { ...uniform, workers: WORKERS, connection: 'keep-alive' },
  };
} finally {
  keepAlive.destroy();
  await local.close().catch(() => {});
  await facet.stop().catch(() => {});
  await database.drop();
}

const r = result as any;
const met = (ok: boolean) => (ok ? 'yes' : 'NO');
console.log();
console.log(
  table(
    ['measure', 'value', 'target', 'met'],
    [
      ['provisioning per tenant (p50 / p99 / mean ms)', `${fixed(r.provisioning.perTenantMs.p50, 0)} / ${fixed(r.provisioning.perTenantMs.p99, 0)} / ${fixed(r.provisioning.perTenantMs.mean, 0)} (${PROVISION_PARALLEL} at a time, ${fixed(r.provisioning.wallSeconds, 0)} s in all)`, '-', '-'],
      ['facet migrate, all up to date (ms per tenant)', `${fixed(r.migrate.perTenantMs, 1)} (${fixed(r.migrate.totalMs / 1000, 1)} s for ${TENANTS}; errors ${r.migrate.errors})`, `≤ ${TARGETS.migrateMsPerTenant}`, met(r.migrate.perTenantMs <= TARGETS.migrateMsPerTenant)],
      ['cold tenant, first discovery (p50 / p99 ms)', `${fixed(r.coldDiscovery.p50Ms, 1)} / ${fixed(r.coldDiscovery.p99Ms, 1)} (${r.coldDiscovery.samples} tenants)`, `p99 ≤ ${TARGETS.coldP99Ms}`, met(r.coldDiscovery.p99Ms <= TARGETS.coldP99Ms)],
      ['warm tenant in the pool (heap MiB; RSS MiB)', `${fixed(r.warmTenantMemory.heapMiBPerTenant, 2)}; ${fixed(r.warmTenantMemory.rssMiBPerTenant, 2)} (${r.warmTenantMemory.warmed} warmed)`, `≤ ${TARGETS.warmMiB}`, met(r.warmTenantMemory.heapMiBPerTenant <= TARGETS.warmMiB)],
      ['discovery, uniform over all tenants (req/s, p50/p99 ms)', `${fixed(r.uniformDiscovery.rps, 0)}, ${fixed(r.uniformDiscovery.p50Ms, 1)} / ${fixed(r.uniformDiscovery.p99Ms, 1)} (errors ${r.uniformDiscovery.errors})`, '-', '-'],
    ],
  ),
);
const file = await writeResult('tenants', { bench: 'tenants', at: new Date().toISOString(), machine: { ...machine(), loadAverageAfter: os.loadavg() }, backend: database.backend, ...r });
console.log(`\nwritten ${file}`);
process.exit(0);
