// `npm run bench -- oidc`: discovery and client_credentials throughput and latency, Facet on real
// PostgreSQL next to a bare oidc-provider (in-memory adapter) configured the same way, both in
// child processes of this run, measured with autocannon. Targets: Facet/bare ≥ 0.8× for
// discovery, ≥ 0.7× for client_credentials. A missed target triggers a CPU profile of Facet.
import { decodeProtectedHeader } from 'jose';
import { basicAuth, measureWithAutocannon, type HttpScenario, type Measurement } from './_support/load.ts';
import { fixed, machine, table, writeResult } from './_support/report.ts';
import { profileFacet, startServers, type FacetChild } from './_support/servers.ts';
import { summariseProfile, type ProfileSummary } from './_support/profile.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = 2;
const RESOURCE = 'https://api.demo.example/';

interface Scenario {
  name: string;
  target: number;
  request(base: string): HttpScenario;
}

const scenarios: Scenario[] = [
  { name: 'discovery', target: 0.8, request: (base) => ({ url: `${base}/t/demo/.well-known/openid-configuration` }) },
  {
    name: 'client_credentials',
    target: 0.7,
    request: (base) => ({
      url: `${base}/t/demo/token`,
      method: 'POST',
      headers: { authorization: basicAuth('demo-service', 'demo-service-dev-secret'), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'orders:read' }).toString(),
    }),
  },
];

const base = (port: number) => `http://localhost:${port}`;

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

async function counters(facet: FacetChild) {
  return facet.request<{ statements: number; commits: number }>({ op: 'counters' });
}

const servers = await startServers();
const rows: Array<{ scenario: string; target: number; bare: Measurement; facet: Measurement; ratio: number; met: boolean; facetStatementsPerRequest: number; facetCommitsPerRequest: number }> = [];
let profile: { scenario: string; file: string; summary: ProfileSummary } | undefined;
try {
  const { facet, bare, database } = servers;
  console.log(`Facet on PostgreSQL ${database.backend.version} (synchronous_commit=${database.backend.synchronousCommit}, fsync=${database.backend.fsync}), pid ${facet.pid}; bare oidc-provider (in-memory adapter), pid ${bare.pid}`);
  console.log(`${machine().cpus} CPUs shared by autocannon (this process), the server under test and PostgreSQL; ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per run\n`);
  for (const scenario of scenarios) {
    await checkScenario(scenario, bare.port, 'bare');
    await checkScenario(scenario, facet.port, 'facet');
    const bareResult = await measureWithAutocannon(scenario.request(base(bare.port)), { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS });
    const before = await counters(facet);
    const facetResult = await measureWithAutocannon(scenario.request(base(facet.port)), { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS });
    const after = await counters(facet);
    // The counters cover the warm-up too, so divide by every request the server answered.
    const served = facetResult.requests + facetResult.rps * WARMUP_SECONDS;
    const ratio = facetResult.rps / bareResult.rps;
    rows.push({
      scenario: scenario.name,
      target: scenario.target,
      bare: bareResult,
      facet: facetResult,
      ratio,
      met: ratio >= scenario.target,
      facetStatementsPerRequest: (after.statements - before.statements) / served,
      facetCommitsPerRequest: (after.commits - before.commits) / served,
    });
  }

  const missed = rows.filter((row) => !row.met).sort((a, b) => a.ratio / a.target - b.ratio / b.target)[0];
  if (missed && process.env.BENCH_PROFILE !== '0') {
    const scenario = scenarios.find((s) => s.name === missed.scenario)!;
    const file = await profileFacet(database, async (profiled) => {
      await checkScenario(scenario, profiled.port, 'profiled facet');
      await measureWithAutocannon(scenario.request(base(profiled.port)), { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS });
    });
    profile = { scenario: scenario.name, file, summary: await summariseProfile(file) };
  }
} finally {
  await servers.close();
}

console.log(
  table(
    ['scenario', 'bare req/s', 'bare p50/p99 ms', 'Facet req/s', 'Facet p50/p99 ms', 'Facet/bare', 'target', 'met', 'errors b/F', 'SQL stmts/req', 'commits/req'],
    rows.map((r) => [
      r.scenario,
      fixed(r.bare.rps, 0),
      `${fixed(r.bare.p50Ms)} / ${fixed(r.bare.p99Ms)}`,
      fixed(r.facet.rps, 0),
      `${fixed(r.facet.p50Ms)} / ${fixed(r.facet.p99Ms)}`,
      `${fixed(r.ratio, 2)}×`,
      `≥ ${r.target}×`,
      r.met ? 'yes' : 'NO',
      `${r.bare.errors}/${r.facet.errors}`,
      fixed(r.facetStatementsPerRequest, 2),
      fixed(r.facetCommitsPerRequest, 2),
    ]),
  ),
);
if (profile) {
  console.log(`\nCPU profile of Facet under ${profile.scenario} (${profile.file}); idle ${profile.summary.idlePercent}% of ${profile.summary.totalMs} ms, shares of busy time:`);
  console.log(table(['area', 'self ms', '%'], profile.summary.areas.map((a) => [a.area, a.selfMs, a.percent])));
  console.log(table(['function', 'where', 'self ms', '%'], profile.summary.topFunctions.map((f) => [f.name, f.where, f.selfMs, f.percent])));
}
const file = await writeResult('oidc', {
  bench: 'oidc',
  at: new Date().toISOString(),
  machine: machine(),
  backend: { facet: { database: 'postgresql', ...servers.database.backend }, bare: 'oidc-provider in-memory adapter' },
  load: { tool: 'autocannon (in the parent process)', connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS },
  scenarios: rows,
  ...(profile ? { profile } : {}),
});
console.log(`\nwritten ${file}`);
