// `npm run bench -- authorize`: an authorization request to the rendered sign-in page (issue 16):
// `GET /t/demo/auth` (code + PKCE, demo-web) → 303 to the interaction → that page rendered (200,
// HTML). Facet only (a bare oidc-provider has no sign-in page of its own to compare with), on
// PostgreSQL when DATABASE_URL is set (in a throwaway database), else in-memory PGlite. A closed
// loop of a few workers, each pair of requests without cookies but the ones the first answer set.
// Prints p50/p99 of each step and of the pair; writes bench/results/authorize.json.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { startTestFacet } from '../test/support/facet.ts';
import { percentile } from './_support/load.ts';
import { fixed, machine, table, writeResult } from './_support/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const MAX_FLOWS = 200_000;

const facet = await startTestFacet();
const base = facet.baseUrl;
const authUrl = () => {
  const url = new URL(`${base}/t/demo/auth`);
  url.search = new URLSearchParams({
    client_id: 'demo-web',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: 'http://localhost:3001/callback',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: Math.random().toString(36).slice(2),
  }).toString();
  return url;
};

async function flow(): Promise<{ auth: number; page: number } | undefined> {
  const t0 = performance.now();
  const first = await fetch(authUrl(), { redirect: 'manual' });
  await first.arrayBuffer();
  const t1 = performance.now();
  const location = first.headers.get('location');
  if (first.status !== 303 || !location) return undefined;
  const cookies = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await fetch(new URL(location, base), { redirect: 'manual', headers: { cookie: cookies } });
  const html = await page.text();
  const t2 = performance.now();
  if (page.status !== 200 || !html.includes('<html')) return undefined;
  return { auth: t1 - t0, page: t2 - t1 };
}

async function loop(seconds: number) {
  const samples = { auth: [] as number[], page: [] as number[], total: [] as number[] };
  let errors = 0;
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (performance.now() < deadline && done < MAX_FLOWS) {
        done += 1;
        const result = await flow().catch(() => undefined);
        if (!result) {
          errors += 1;
          continue;
        }
        samples.auth.push(result.auth);
        samples.page.push(result.page);
        samples.total.push(result.auth + result.page);
      }
    }),
  );
  for (const list of Object.values(samples)) list.sort((a, b) => a - b);
  return { samples, errors, seconds: (performance.now() - started) / 1000 };
}

let result: Record<string, unknown>;
try {
  const check = await flow();
  if (!check) throw new Error('the authorization request did not end on a rendered interaction page');
  console.log(`Facet on ${facet.database.kind}; ${machine().cpus} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${WORKERS} workers, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`);
  await loop(WARMUP_SECONDS);
  const run = await loop(SECONDS);
  const summary = (list: number[]) => ({ p50Ms: percentile(list, 0.5), p99Ms: percentile(list, 0.99) });
  result = {
    database: facet.database.kind,
    workers: WORKERS,
    flows: run.samples.total.length,
    errors: run.errors,
    flowsPerSecond: run.samples.total.length / run.seconds,
    auth: summary(run.samples.auth),
    page: summary(run.samples.page),
    total: summary(run.samples.total),
  };
} finally {
  await facet.close();
}
const r = result as any;
console.log(
  table(
    ['step', 'p50 ms', 'p99 ms'],
    [
      ['GET /t/demo/auth → 303', fixed(r.auth.p50Ms, 2), fixed(r.auth.p99Ms, 2)],
      ['GET interaction page → 200 (rendered)', fixed(r.page.p50Ms, 2), fixed(r.page.p99Ms, 2)],
      ['both', fixed(r.total.p50Ms, 2), fixed(r.total.p99Ms, 2)],
    ],
  ),
);
console.log(`${r.flows} flows (${fixed(r.flowsPerSecond, 0)}/s), ${r.errors} errors`);
const file = await writeResult('authorize', { bench: 'authorize', at: new Date().toISOString(), machine: { ...machine(), loadAverageAfter: os.loadavg() }, ...r });
console.log(`written ${file}`);
process.exit(0);
