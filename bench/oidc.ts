// `npm run bench -- oidc`: discovery and client_credentials throughput and latency, Facet on real
// PostgreSQL next to a bare oidc-provider (in-memory adapter) configured the same way, both in
// child processes of this run, measured with autocannon. Each scenario runs bare, Facet, Facet,
// bare (ABBA), so a change in the machine's other load during the run hits both sides alike.
// Targets (issue 16): Facet/bare ≥ 1.5× for discovery and JWKS, ≥ 0.9× for client_credentials. A missed target
// triggers a CPU profile of both servers under that scenario, compared per request.
import os from 'node:os';
import { decodeProtectedHeader } from 'jose';
import { basicAuth, measureWithAutocannon, type HttpScenario, type Measurement } from './_support/load.ts';
import { cpuMeter } from './_support/cpu.ts';
import { fixed, machine, table, writeResult } from './_support/report.ts';
import { profileChild, startBareChild, startFacetChild, startServers, type FacetChild } from './_support/servers.ts';
import { compareProfiles, monotonicUs, summariseProfile, type ProfileSummary } from './_support/profile.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = 2;
const RESOURCE = 'https://api.demo.example/';

interface Scenario {
  name: string;
  target: number;
  request(base: string): HttpScenario;
}

const allScenarios: Scenario[] = [
  { name: 'discovery', target: 1.5, request: (base) => ({ url: `${base}/t/demo/.well-known/openid-configuration` }) },
  { name: 'jwks', target: 1.5, request: (base) => ({ url: `${base}/t/demo/jwks` }) },
  {
    name: 'client_credentials',
    target: 0.9,
    request: (base) => ({
      url: `${base}/t/demo/token`,
      method: 'POST',
      headers: { authorization: basicAuth('demo-service', 'demo-service-dev-secret'), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'orders:read' }).toString(),
    }),
  },
];

// BENCH_SCENARIOS=jwks,client_credentials runs only those.
const only = process.env.BENCH_SCENARIOS?.split(',').map((name) => name.trim());
const scenarios = only ? allScenarios.filter((scenario) => only.includes(scenario.name)) : allScenarios;
if (scenarios.length === 0) throw new Error(`BENCH_SCENARIOS names none of ${allScenarios.map((s) => s.name).join(', ')}`);

const base = (port: number) => `http://localhost:${port}`;
const measure = (scenario: Scenario, port: number) => measureWithAutocannon(scenario.request(base(port)), { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS });

/** A measured run plus the CPU the server process (all its threads) used per request served. */
async function measureWithCpu(scenario: Scenario, child: { port: number; pid: number }): Promise<Measurement & { serverCpuUs: number }> {
  const meter = cpuMeter({ server: child.pid });
  const m = await measure(scenario, child.port);
  const used = meter.stop();
  return { ...m, serverCpuUs: (1e6 * used.server!) / (m.requests + (m.warmupRequests ?? 0)) };
}

/** Both servers must answer each scenario correctly before anything is timed. */
async function checkScenario(scenario: Scenario, port: number, who: string): Promise<void> {
  const { url, method, headers, body } = scenario.request(base(port));
  const response = await fetch(url, { method: method ?? 'GET', ...(headers ? { headers } : {}), ...(body ? { body } : {}) });
  const json = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`${who} ${scenario.name}: ${response.status} ${JSON.stringify(json)}`);
  if (scenario.name === 'client_credentials') {
    const alg = decodeProtectedHeader(json.access_token!).alg;
    if (alg !== 'ES256' || json.scope !== 'orders:read') throw new Error(`${who}: expected an ES256 JWT with scope orders:read, got ${alg} / ${json.scope}`);
  }
}

const counters = (facet: FacetChild) => facet.request<{ statements: number; commits: number }>({ op: 'counters' });

/** The mean of the ABBA runs; errors summed. */
function combine(runs: Measurement[]): Measurement {
  const mean = (pick: (m: Measurement) => number) => runs.reduce((sum, m) => sum + pick(m), 0) / runs.length;
  return { requests: runs.reduce((s, m) => s + m.requests, 0), errors: runs.reduce((s, m) => s + m.errors, 0), seconds: mean((m) => m.seconds), rps: mean((m) => m.rps), p50Ms: mean((m) => m.p50Ms), p99Ms: mean((m) => m.p99Ms) };
}

interface Row {
  scenario: string;
  target: number;
  bare: Measurement;
  facet: Measurement;
  runs: { bare: Measurement[]; facet: Measurement[] };
  ratio: number;
  /** Server CPU (µs, all threads, from /proc) per request; robust to other load on the machine. */
  cpuUsPerRequest: { bare: number; facet: number };
  /** bare CPU/request ÷ Facet CPU/request: the throughput ratio two equally saturated cores would show. */
  cpuRatio: number;
  met: boolean;
  facetStatementsPerRequest: number;
  facetCommitsPerRequest: number;
}

const loadBefore = os.loadavg();
const servers = await startServers();
const rows: Row[] = [];
const profiles: Array<{ scenario: string; files: { facet: string; bare: string }; served: { facet: number; bare: number }; windows: Record<'facet' | 'bare', { from: number; to: number }>; facet: ProfileSummary; bare: ProfileSummary; comparison: ReturnType<typeof compareProfiles> }> = [];
try {
  const { facet, bare, database } = servers;
  console.log(`Facet on PostgreSQL ${database.backend.version} (synchronous_commit=${database.backend.synchronousCommit}, fsync=${database.backend.fsync}), pid ${facet.pid}; bare oidc-provider (in-memory adapter), pid ${bare.pid}`);
  console.log(`${machine().cpus} CPUs shared by autocannon (this process), the server under test and PostgreSQL (and whatever else runs here: load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')})`);
  console.log(`rate limits: ${process.env.BENCH_REDIS_URL ? `shared counters in Redis (${process.env.BENCH_REDIS_URL})` : 'per-process counters (no Redis; BENCH_REDIS_URL to use one)'}`);
  console.log(`${CONNECTIONS} connections; per scenario bare, Facet, Facet, bare, each ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured\n`);
  for (const scenario of scenarios) {
    await checkScenario(scenario, bare.port, 'bare');
    await checkScenario(scenario, facet.port, 'facet');
    const runs = { bare: [] as Array<Measurement & { serverCpuUs: number }>, facet: [] as Array<Measurement & { serverCpuUs: number }> };
    runs.bare.push(await measureWithCpu(scenario, bare));
    const before = await counters(facet);
    runs.facet.push(await measureWithCpu(scenario, facet));
    runs.facet.push(await measureWithCpu(scenario, facet));
    const after = await counters(facet);
    runs.bare.push(await measureWithCpu(scenario, bare));
    const cpu = { bare: (runs.bare[0]!.serverCpuUs + runs.bare[1]!.serverCpuUs) / 2, facet: (runs.facet[0]!.serverCpuUs + runs.facet[1]!.serverCpuUs) / 2 };
    const served = runs.facet.reduce((sum, m) => sum + m.requests + (m.warmupRequests ?? 0), 0);
    const [b, f] = [combine(runs.bare), combine(runs.facet)];
    rows.push({
      scenario: scenario.name,
      target: scenario.target,
      bare: b,
      facet: f,
      runs,
      ratio: f.rps / b.rps,
      cpuUsPerRequest: cpu,
      cpuRatio: cpu.bare / cpu.facet,
      met: f.rps / b.rps >= scenario.target,
      facetStatementsPerRequest: (after.statements - before.statements) / served,
      facetCommitsPerRequest: (after.commits - before.commits) / served,
    });
  }

  if (process.env.BENCH_PROFILE !== '0') {
    // BENCH_PROFILE=always profiles every scenario, met or not (to see where the time goes).
    for (const row of rows.filter((r) => !r.met || process.env.BENCH_PROFILE === 'always')) {
      const scenario = scenarios.find((s) => s.name === row.scenario)!;
      const served = { facet: 0, bare: 0 };
      const windows = { facet: { from: 0, to: 0 }, bare: { from: 0, to: 0 } };
      const profiledRun = (who: 'facet' | 'bare') => async (child: { port: number }) => {
        await checkScenario(scenario, child.port, `profiled ${who}`);
        windows[who].from = monotonicUs();
        const m = await measure(scenario, child.port);
        windows[who].to = monotonicUs();
        served[who] = m.requests + (m.warmupRequests ?? 0);
      };
      const files = {
        facet: await profileChild((options) => startFacetChild(database, options), profiledRun('facet')),
        bare: await profileChild((options) => startBareChild(options), profiledRun('bare')),
      };
      const summaries = { facet: await summariseProfile(files.facet, { window: windows.facet }), bare: await summariseProfile(files.bare, { window: windows.bare }) };
      profiles.push({ scenario: scenario.name, files, served: { ...served }, windows, ...summaries, comparison: compareProfiles(summaries.facet, served.facet, summaries.bare, served.bare) });
    }
  }
} finally {
  await servers.close();
}

console.log(
  table(
    ['scenario', 'bare req/s (runs)', 'bare p50/p99 ms', 'Facet req/s (runs)', 'Facet p50/p99 ms', 'Facet/bare', 'target', 'met', 'errors b/F', 'server CPU µs/req b/F', 'CPU ratio', 'SQL/req', 'commits/req'],
    rows.map((r) => [
      r.scenario,
      `${fixed(r.bare.rps, 0)} (${r.runs.bare.map((m) => fixed(m.rps, 0)).join('/')})`,
      `${fixed(r.bare.p50Ms)} / ${fixed(r.bare.p99Ms)}`,
      `${fixed(r.facet.rps, 0)} (${r.runs.facet.map((m) => fixed(m.rps, 0)).join('/')})`,
      `${fixed(r.facet.p50Ms)} / ${fixed(r.facet.p99Ms)}`,
      `${fixed(r.ratio, 2)}×`,
      `≥ ${r.target}×`,
      r.met ? 'yes' : 'NO',
      `${r.bare.errors}/${r.facet.errors}`,
      `${fixed(r.cpuUsPerRequest.bare, 0)}/${fixed(r.cpuUsPerRequest.facet, 0)}`,
      `${fixed(r.cpuRatio, 2)}×`,
      fixed(r.facetStatementsPerRequest, 2),
      fixed(r.facetCommitsPerRequest, 2),
    ]),
  ),
);
console.log('\nmet is judged on req/s. CPU ratio = bare server CPU per request ÷ Facet server CPU per request (from /proc, all threads):');
console.log('the throughput ratio two equally saturated cores would show; steadier than req/s when other work shares the machine.');
for (const profile of profiles) {
  const c = profile.comparison;
  console.log(`\nCPU profiles under ${profile.scenario}: busy CPU per request Facet ${fixed(c.busyUsPerRequest.facet, 0)} µs, bare ${fixed(c.busyUsPerRequest.bare, 0)} µs. Where Facet spends more (µs per request, by code area):`);
  console.log(table(['area', 'Facet µs/req', 'bare µs/req', 'difference'], c.areas.map((a) => [a.area, fixed(a.facetUs), fixed(a.bareUs), fixed(a.facetUs - a.bareUs)])));
  console.log(`\nTop self-time functions in Facet (${profile.files.facet}):`);
  console.log(table(['function', 'where', 'self ms', '% busy'], profile.facet.topFunctions.map((f) => [f.name, f.where, f.selfMs, f.percent])));
}
const file = await writeResult('oidc', {
  bench: 'oidc',
  at: new Date().toISOString(),
  machine: { ...machine(), loadAverage: { before: loadBefore, after: os.loadavg() } },
  backend: { facet: { database: 'postgresql', ...servers.database.backend }, bare: 'oidc-provider in-memory adapter' },
  rateLimits: process.env.BENCH_REDIS_URL ? 'redis' : 'per-process',
  load: { tool: 'autocannon (in the parent process)', connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS, order: 'bare, facet, facet, bare' },
  scenarios: rows,
  profiles,
});
console.log(`\nwritten ${file}`);
