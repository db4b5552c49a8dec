// `npm run bench -- refresh`: refresh-grant throughput and latency over a pool of rotating
// refresh-token families, Facet on real PostgreSQL (durable commits) next to a bare
// oidc-provider (in-memory adapter, rotateRefreshToken: true), both in child processes of this
// run. A bounded closed loop: each worker owns some families and always presents each family's
// latest token. Target: Facet/bare ≥ 0.5×.
import os from 'node:os';
import { codeFlow } from '../test/support/code-flow.ts';
import { discover } from '../test/support/rp.ts';
import { cpuMeter } from './_support/cpu.ts';
import { basicAuth, closeAgent, closedLoop, postForm, type Measurement } from './_support/load.ts';
import { fixed, machine, table, writeResult } from './_support/report.ts';
import { profileChild, startFacetChild, startServers, type FacetChild } from './_support/servers.ts';
import { monotonicUs, summariseProfile, type ProfileSummary } from './_support/profile.ts';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 16);
const FAMILIES_PER_WORKER = 4;
const FAMILIES = WORKERS * FAMILIES_PER_WORKER;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const MAX_REQUESTS = 500_000;
const TARGET = 0.5;
const CLIENT = { id: 'demo-web', secret: 'demo-web-dev-secret', redirectUri: 'http://localhost:3001/callback' };
const AUTH = basicAuth(CLIENT.id, CLIENT.secret);

const base = (port: number) => `http://localhost:${port}`;

/** Facet: one code flow per family (openid offline_access, prompt=consent) through the test helper. */
async function facetFamilies(facet: FacetChild, count: number): Promise<string[]> {
  const origin = base(facet.port);
  const config = await discover(`${origin}/t/demo`, CLIENT.id, CLIENT.secret);
  const tokens: string[] = Array.from({ length: count }, () => '');
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const i = next++;
        const { tokens: set } = await codeFlow(config, { origin, sub: facet.info.sub, redirectUri: CLIENT.redirectUri, scope: 'openid offline_access' });
        if (!set.refresh_token) throw new Error('the code flow returned no refresh token');
        tokens[i] = set.refresh_token;
      }
    }),
  );
  return tokens;
}

async function bareFamilies(port: number, count: number): Promise<string[]> {
  const response = await fetch(`${base(port)}/__bench/refresh-families?count=${count}&sub=bench-user`, { method: 'POST' });
  if (!response.ok) throw new Error(`bare: minting families failed with ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { refresh_tokens: string[] }).refresh_tokens;
}

/** One refresh per step; the family's latest token is kept, a failed family is set aside. */
function refresher(port: number, tokens: string[]) {
  const url = `${base(port)}/t/demo/token`;
  const cursor: number[] = Array.from({ length: WORKERS }, () => 0);
  const dead = new Set<number>();
  const failures: string[] = [];
  return {
    dead,
    failures,
    async step(worker: number): Promise<boolean> {
      let family = -1;
      for (let tries = 0; tries < FAMILIES_PER_WORKER; tries += 1) {
        const candidate = worker * FAMILIES_PER_WORKER + (cursor[worker]++ % FAMILIES_PER_WORKER);
        if (!dead.has(candidate)) {
          family = candidate;
          break;
        }
      }
      if (family < 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return false;
      }
      const response = await postForm(url, { grant_type: 'refresh_token', refresh_token: tokens[family]! }, { authorization: AUTH }).catch((error: Error) => ({ status: 0, body: error.message }));
      if (response.status === 200 && response.body?.refresh_token && response.body?.id_token) {
        tokens[family] = response.body.refresh_token;
        return true;
      }
      // The token may have rotated server-side without us seeing the successor: the family is lost.
      dead.add(family);
      if (failures.length < 5) failures.push(`${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
      return false;
    },
  };
}

/** The SQL one refresh sends, in order (after the measured run, on a family still alive). */
async function statementsOfOneRefresh(facet: FacetChild, tokens: string[]): Promise<string[]> {
  await facet.request({ op: 'log-statements', on: true });
  const response = await postForm(`${base(facet.port)}/t/demo/token`, { grant_type: 'refresh_token', refresh_token: tokens[0]! }, { authorization: AUTH });
  if (response.status === 200) tokens[0] = response.body.refresh_token;
  const { statements } = await facet.request<{ statements: string[] }>({ op: 'log-statements', on: false });
  return statements.map((text) => text.replace(/\s+/g, ' ').slice(0, 140));
}

type Refresher = ReturnType<typeof refresher>;

interface Run {
  measurement: Measurement;
  /** Requests served during warm-up and measurement (what CPU and SQL counters cover). */
  served: number;
  cpu: Record<string, number>;
}

/** Warm-up, then the measured closed loop; CPU of `pid` (and PostgreSQL) over both. */
async function run(loop: Refresher, pid: number, { postgres = false }: { postgres?: boolean | string } = {}): Promise<Run> {
  const meter = cpuMeter({ server: pid }, { postgres });
  const warmup = await closedLoop((w) => loop.step(w), { workers: WORKERS, seconds: WARMUP_SECONDS, maxRequests: MAX_REQUESTS });
  const measurement = await closedLoop((w) => loop.step(w), { workers: WORKERS, seconds: SECONDS, maxRequests: MAX_REQUESTS });
  measurement.errors += warmup.errors;
  return { measurement, served: warmup.requests + measurement.requests, cpu: meter.stop() };
}

/** The mean of the ABBA runs; errors summed. */
function combine(runs: Run[]): Measurement {
  const mean = (pick: (m: Measurement) => number) => runs.reduce((sum, r) => sum + pick(r.measurement), 0) / runs.length;
  return {
    requests: runs.reduce((s, r) => s + r.measurement.requests, 0),
    errors: runs.reduce((s, r) => s + r.measurement.errors, 0),
    seconds: mean((m) => m.seconds),
    rps: mean((m) => m.rps),
    p50Ms: mean((m) => m.p50Ms),
    p99Ms: mean((m) => m.p99Ms),
  };
}

/** CPU ms per request served, per process group, over several runs. */
function cpuPerRequest(runs: Run[]): Record<string, number> {
  const served = runs.reduce((s, r) => s + r.served, 0);
  const names = Object.keys(runs[0]!.cpu);
  return Object.fromEntries(names.map((name) => [name, (1000 * runs.reduce((s, r) => s + r.cpu[name]!, 0)) / served]));
}

const servers = await startServers();
let result: Record<string, any> | undefined;
let profile: { file: string; summary: ProfileSummary } | undefined;
try {
  const { facet, bare, database } = servers;
  console.log(`Facet on PostgreSQL ${database.backend.version} (synchronous_commit=${database.backend.synchronousCommit}, fsync=${database.backend.fsync}), pid ${facet.pid}; bare oidc-provider (in-memory adapter), pid ${bare.pid}`);
  console.log(`${machine().cpus} CPUs shared by the load generator (this process), the server under test and PostgreSQL (and whatever else runs here: load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  console.log(`${WORKERS} workers × ${FAMILIES_PER_WORKER} families; bare, Facet, Facet, bare, each ${WARMUP_SECONDS} s warm-up + ${SECONDS} s closed loop`);

  const started = Date.now();
  const facetTokens = await facetFamilies(facet, FAMILIES);
  const bareTokens = await bareFamilies(bare.port, FAMILIES);
  console.log(`${FAMILIES} families each: Facet by code flows in ${((Date.now() - started) / 1000).toFixed(1)} s, bare minted in its process\n`);

  // bare, Facet, Facet, bare: a change in the machine's other load hits both sides alike.
  const loops = { bare: refresher(bare.port, bareTokens), facet: refresher(facet.port, facetTokens) };
  const runs = { bare: [] as Run[], facet: [] as Run[] };
  runs.bare.push(await run(loops.bare, bare.pid));
  const before = await facet.request<{ statements: number; commits: number; autocommits: number }>({ op: 'counters' });
  // PostgreSQL CPU: the bench database's backends and the server's own processes.
  const databaseName = new URL(database.url).pathname.slice(1);
  runs.facet.push(await run(loops.facet, facet.pid, { postgres: databaseName }));
  runs.facet.push(await run(loops.facet, facet.pid, { postgres: databaseName }));
  const after = await facet.request<{ statements: number; commits: number; autocommits: number }>({ op: 'counters' });
  runs.bare.push(await run(loops.bare, bare.pid));
  const oneRefresh = await statementsOfOneRefresh(facet, facetTokens);
  const facetServed = runs.facet.reduce((s, r) => s + r.served, 0);
  const [bareM, facetM] = [combine(runs.bare), combine(runs.facet)];
  const ratio = facetM.rps / bareM.rps;
  result = {
    target: TARGET,
    ratio,
    met: ratio >= TARGET,
    bare: { measurement: bareM, runs: runs.bare, lostFamilies: loops.bare.dead.size, failures: loops.bare.failures, cpuMsPerRequest: cpuPerRequest(runs.bare) },
    facet: {
      measurement: facetM,
      runs: runs.facet,
      lostFamilies: loops.facet.dead.size,
      failures: loops.facet.failures,
      statementsPerRequest: (after.statements - before.statements) / facetServed,
      commitsPerRequest: (after.commits - before.commits) / facetServed,
      autocommitsPerRequest: (after.autocommits - before.autocommits) / facetServed,
      oneRefresh,
      cpuMsPerRequest: cpuPerRequest(runs.facet),
    },
  };

  if (!result.met && process.env.BENCH_PROFILE !== '0') {
    const window = { from: 0, to: 0 };
    const file = await profileChild((options) => startFacetChild(database, options), async (profiled) => {
      window.from = monotonicUs();
      await run(refresher(profiled.port, facetTokens), profiled.pid);
      window.to = monotonicUs();
    });
    profile = { file, summary: await summariseProfile(file, { window }) };
  }
} finally {
  closeAgent();
  await servers.close();
}

const r = result!;
const row = (name: string, side: { measurement: Measurement; runs: Run[]; lostFamilies: number }) => [
  name,
  `${fixed(side.measurement.rps, 0)} (${side.runs.map((x) => fixed(x.measurement.rps, 0)).join('/')})`,
  fixed(side.measurement.p50Ms, 1),
  fixed(side.measurement.p99Ms, 1),
  side.measurement.requests,
  side.measurement.errors,
  side.lostFamilies,
];
console.log(table(['server', 'refresh req/s (runs)', 'p50 ms', 'p99 ms', 'requests', 'errors', 'families lost'], [row('bare oidc-provider (memory)', r.bare), row('Facet (PostgreSQL)', r.facet)]));
console.log();
console.log(table(['Facet/bare', 'target', 'met'], [[`${fixed(r.ratio, 2)}×`, `≥ ${TARGET}×`, r.met ? 'yes' : 'NO']]));
console.log();
console.log(
  table(
    ['per refresh', 'bare', 'Facet'],
    [
      ['server CPU ms', fixed(r.bare.cpuMsPerRequest.server, 3), fixed(r.facet.cpuMsPerRequest.server, 3)],
      ['PostgreSQL CPU ms (bench database backends + server processes)', '-', fixed(r.facet.cpuMsPerRequest.postgres, 3)],
      ['load generator CPU ms', fixed(r.bare.cpuMsPerRequest.generator, 3), fixed(r.facet.cpuMsPerRequest.generator, 3)],
      ['SQL statements (round trips)', '-', fixed(r.facet.statementsPerRequest, 2)],
      ['explicit COMMITs', '-', fixed(r.facet.commitsPerRequest, 2)],
      ['single-statement transactions (autocommit)', '-', fixed(r.facet.autocommitsPerRequest, 2)],
      ['commits in all (COMMIT + single-statement transactions)', '-', fixed(r.facet.commitsPerRequest + r.facet.autocommitsPerRequest, 2)],
    ],
  ),
);
console.log(`\nSQL sent by Facet for one refresh (${r.facet.oneRefresh.length} statements):`);
r.facet.oneRefresh.forEach((text: string, i: number) => console.log(`  ${String(i + 1).padStart(2)}. ${text}`));
for (const [who, run] of [['bare', r.bare], ['Facet', r.facet]] as const) {
  if (run.failures.length) console.log(`${who} failures (first ${run.failures.length}):\n  ${run.failures.join('\n  ')}`);
}
if (profile) {
  console.log(`\nCPU profile of Facet under refresh (${profile.file}); idle ${profile.summary.idlePercent}% of ${profile.summary.totalMs} ms, shares of busy time:`);
  console.log(table(['area', 'self ms', '%'], profile.summary.areas.slice(0, 15).map((a) => [a.area, a.selfMs, a.percent])));
  console.log(table(['function', 'where', 'self ms', '%'], profile.summary.topFunctions.map((f) => [f.name, f.where, f.selfMs, f.percent])));
}
const file = await writeResult('refresh', {
  bench: 'refresh',
  at: new Date().toISOString(),
  machine: { ...machine(), loadAverageAfter: os.loadavg() },
  backend: { facet: { database: 'postgresql', ...servers.database.backend }, bare: 'oidc-provider in-memory adapter' },
  load: { tool: 'closed loop over node:http keep-alive (in the parent process)', workers: WORKERS, familiesPerWorker: FAMILIES_PER_WORKER, families: FAMILIES, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS },
  ...r,
  ...(profile ? { profile } : {}),
});
console.log(`\nwritten ${file}`);
