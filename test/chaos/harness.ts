// The chaos harness (issue 17): Facet as its own process on its own throwaway PostgreSQL cluster
// and redis-server, under steady load (refresh-token chains, admin writes, client_credentials,
// sign-in pages), while faults are injected one after another. For each fault it records the
// answers by status during the fault and after it, and how long each kind of request took to be
// served again; at the end it checks that nothing was lost or doubled. `npm run chaos` runs it
// with the issue's durations and prints the table; test/ops/chaos.test.ts runs it shorter in CI
// (the worker kill there is test/ops/worker-kill.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Redis } from 'ioredis';
import { openDatabase } from '../../src/db/client.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { startPgCluster, type PgCluster } from '../support/pg-cluster.ts';
import { startRedisServer, type RedisServer } from '../support/redis-server.ts';
import { startFacetProcess, type FacetProcess } from '../support/facet-process.ts';
import { discover } from '../support/rp.ts';
import { codeFlow } from '../support/code-flow.ts';
import { runWorkerKill, type WorkerKillReport } from './worker-kill.ts';
import { adminAuthorizer } from '../support/admin-client.ts';

const WEB = `Basic ${Buffer.from('demo-web:demo-web-dev-secret').toString('base64')}`;
const SERVICE = `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`;
const METRICS_TOKEN = 'chaos-metrics-token-0123456789abcdef';
const REDIRECT = 'http://localhost:3001/callback';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Kind = 'refresh' | 'admin_write' | 'client_credentials' | 'sign_in_page';
const KINDS: Kind[] = ['refresh', 'admin_write', 'client_credentials', 'sign_in_page'];

interface Outcome {
  kind: Kind;
  /** HTTP status, `reset` for a dropped connection, `error_redirect` for an authorization error sent to the client. */
  status: number | 'reset' | 'error_redirect';
  at: number;
  ms: number;
}

export interface FaultReport {
  name: string;
  during: Record<string, number>;
  after: Record<string, number>;
  /** Per kind: ms from the fault's end until its first success (undefined: never failed). */
  recoveryMs: Partial<Record<Kind, number>>;
  notes: string[];
}

export interface ChaosCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ChaosReport {
  faults: FaultReport[];
  checks: ChaosCheck[];
  /** Answers that are failures whatever the fault: 5xx other than 503, resets, 503 without Retry-After. */
  unexpected: string[];
  processSurvived: boolean;
}

export interface ChaosOptions {
  pgStopMs: number;
  redisHangMs: number;
  /** Load before each fault and after its end. */
  settleMs: number;
  /** Kill a `facet worker` mid-job (test/chaos/worker-kill.ts); CI runs that fault in test/ops/worker-kill.test.ts. */
  workerKill?: boolean;
  log?: (line: string) => void;
}

export const FULL: ChaosOptions = { pgStopMs: 15_000, redisHangMs: 20_000, settleMs: 3000, workerKill: true };
/** The worker's job lock in the chaos runs (FACET_JOB_LOCK_MS; 30 s by default). */
const CHAOS_JOB_LOCK_MS = 5000;

export async function runChaos({ pgStopMs, redisHangMs, settleMs, workerKill = false, log = () => {} }: ChaosOptions): Promise<ChaosReport> {
  const cluster: PgCluster = await startPgCluster();
  const redis: RedisServer = await startRedisServer();
  const exportDir = mkdtempSync(path.join(tmpdir(), 'facet-chaos-exports-'));
  let facet: FacetProcess | undefined;
  try {
    log(`PostgreSQL on ${cluster.port}, Redis on ${redis.port}`);
    facet = await startFacetProcess({ DATABASE_URL: cluster.url, REDIS_URL: redis.url, METRICS_TOKEN, FACET_AUDIT_EXPORT_DIR: exportDir, FACET_JOB_LOCK_MS: String(CHAOS_JOB_LOCK_MS) });
    const base = `${facet.baseUrl}/t/demo`;
    // The admin API's machine client; its token (10 minutes) is got now and reused through the faults.
    const admin = adminAuthorizer(facet.baseUrl);
    await admin();

    // Set-up: a user with three refresh-token chains, a second user the admin writes are about.
    const database = await openDatabase({ kind: 'postgres', url: cluster.url });
    let holder: string;
    let target: string;
    let installation: string;
    try {
      const tenant = (await findTenant(database.db, 'demo'))!;
      holder = (await withTenant(database.db, tenant, (trx) => createUser(trx, { username: 'chaos-holder' }))).id;
      target = (await withTenant(database.db, tenant, (trx) => createUser(trx, { username: 'chaos-target' }))).id;
      installation = (await database.db.selectFrom('facet_control.installation').select('role_prefix').executeTakeFirstOrThrow()).role_prefix as string;
    } finally {
      await database.close();
    }
    const config = await discover(base, 'demo-web', 'demo-web-dev-secret');
    const chains: string[] = [];
    for (let i = 0; i < 3; i += 1) chains.push((await codeFlow(config, { origin: facet.baseUrl, sub: holder, redirectUri: REDIRECT, scope: 'openid offline_access' })).tokens.refresh_token!);

    const outcomes: Outcome[] = [];
    const unexpected: string[] = [];
    const accessTokens: string[] = [];
    let adminWrites = 0;
    const authorize = `${base}/auth?client_id=demo-web&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`;

    async function call(kind: Kind, chain: number): Promise<void> {
      const at = Date.now();
      let status: Outcome['status'];
      let retryAfter: string | null = null;
      let body = '';
      try {
        let response: Response;
        if (kind === 'refresh') {
          response = await fetch(`${base}/token`, { method: 'POST', headers: { authorization: WEB }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: chains[chain]! }) });
        } else if (kind === 'admin_write') {
          response = await fetch(`${base}/admin/api/users/${target}/sign-out`, { method: 'POST', headers: { authorization: await admin() } });
        } else if (kind === 'client_credentials') {
          response = await fetch(`${base}/token`, { method: 'POST', headers: { authorization: SERVICE }, body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: 'https://api.demo.example/' }) });
        } else {
          response = await fetch(authorize, { redirect: 'manual', headers: { accept: 'text/html' } });
          const location = response.headers.get('location') ?? '';
          if (response.status === 303 && location.startsWith(REDIRECT)) {
            status = 'error_redirect';
            body = location;
            outcomes.push({ kind, status, at, ms: Date.now() - at });
            if (!/error=temporarily_unavailable/.test(location)) unexpected.push(`${kind}: redirect ${location.slice(0, 160)}`);
            return;
          }
          if (response.status === 303 && location) {
            const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
            await response.arrayBuffer();
            response = await fetch(new URL(location, base), { headers: { accept: 'text/html', cookie } });
          }
        }
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        body = await response.text();
        if (kind === 'refresh' && status === 200) chains[chain] = (JSON.parse(body) as { refresh_token: string }).refresh_token;
        if (kind === 'client_credentials' && status === 200 && accessTokens.length < 2000) accessTokens.push((JSON.parse(body) as { access_token: string }).access_token);
        if (kind === 'admin_write' && status === 200) adminWrites += 1;
      } catch (error) {
        status = 'reset';
        body = String((error as Error).cause ?? error);
      }
      outcomes.push({ kind, status, at, ms: Date.now() - at });
      if (status === 'reset' || (typeof status === 'number' && status >= 500 && status !== 503) || (status === 503 && !retryAfter) || (kind === 'refresh' && status === 400)) {
        unexpected.push(`${kind} ${status}: ${body.slice(0, 160)}`);
      }
    }

    let running = true;
    const loop = async (kind: Kind, chain = 0) => {
      while (running) {
        await call(kind, chain);
        await sleep(15);
      }
    };
    const loops = [loop('refresh', 0), loop('refresh', 1), loop('refresh', 2), loop('admin_write'), loop('client_credentials'), loop('client_credentials'), loop('sign_in_page')];

    const faults: FaultReport[] = [];
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    probe.on('error', () => {});
    const scheduleKey = `facet:${installation}:facet-jobs:repeat`;

    async function fault(name: string, inject: () => Promise<void>, notes: (window: { start: number; end: number }) => Promise<string[]> = async () => []) {
      log(`fault: ${name}`);
      await sleep(settleMs);
      const start = Date.now();
      await inject();
      const end = Date.now();
      await sleep(settleMs);
      const window = (from: number, to: number) =>
        outcomes.filter((o) => o.at >= from && o.at < to).reduce<Record<string, number>>((acc, o) => ((acc[`${o.kind} ${o.status}`] = (acc[`${o.kind} ${o.status}`] ?? 0) + 1), acc), {});
      const recoveryMs: FaultReport['recoveryMs'] = {};
      for (const kind of KINDS) {
        const failedDuring = outcomes.some((o) => o.kind === kind && o.at >= start && o.at < end + 50 && o.status !== 200);
        if (!failedDuring) continue;
        const back = outcomes.filter((o) => o.kind === kind && o.at >= end && o.status === 200).sort((a, b) => a.at - b.at)[0];
        recoveryMs[kind] = back ? Math.max(0, back.at + back.ms - end) : Number.POSITIVE_INFINITY;
      }
      faults.push({ name, during: window(start, end), after: window(end, Date.now()), recoveryMs, notes: await notes({ start, end }) });
    }

    const p99 = (kind: Kind, from: number, to: number) => {
      const ms = outcomes.filter((o) => o.kind === kind && o.at >= from && o.at < to).map((o) => o.ms).sort((a, b) => a - b);
      return ms.length ? ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))]! : Number.NaN;
    };

    await fault('PostgreSQL restart', async () => {
      await cluster.stop('fast');
      await cluster.start();
    });
    await fault(`PostgreSQL stop ${pgStopMs / 1000} s`, async () => {
      await cluster.stop('fast');
      await sleep(pgStopMs);
      await cluster.start();
    });
    let schedulesBackMs: number | undefined;
    await probe.connect().catch(() => {});
    const expectedSchedules = await probe.zcard(scheduleKey).catch(() => 0);
    await fault(
      'Redis restart with data loss',
      async () => {
        await redis.restart();
      },
      async ({ end }) => {
        for (let waited = 0; waited < 60_000; waited += 100) {
          if ((await probe.zcard(scheduleKey).catch(() => 0)) >= Math.max(1, expectedSchedules)) {
            schedulesBackMs = Date.now() - end;
            break;
          }
          await sleep(100);
        }
        return [schedulesBackMs === undefined ? 'job schedules NOT back within 60 s' : `${expectedSchedules} job schedules back after ${schedulesBackMs} ms`];
      },
    );
    await fault(
      `Redis hang ${redisHangMs / 1000} s (SIGSTOP)`,
      async () => {
        redis.pause();
        await sleep(redisHangMs);
        redis.resume();
      },
      async ({ start, end }) => [`client_credentials p99 ${p99('client_credentials', start - settleMs, start).toFixed(0)} ms before, ${p99('client_credentials', start, end).toFixed(0)} ms during`],
    );

    const jobChecks: ChaosCheck[] = [];
    if (workerKill) {
      let report: WorkerKillReport | undefined;
      await fault(
        'worker killed mid-job (SIGKILL)',
        async () => {
          report = await runWorkerKill({
            databaseUrl: cluster.url,
            redisUrl: redis.url,
            tenant: 'demo',
            exportDir,
            lockMs: CHAOS_JOB_LOCK_MS,
            fillerRows: 20_000,
            exports: 4,
            async requestExport() {
              const response = await fetch(`${base}/admin/api/audit/exports`, { method: 'POST', headers: { authorization: await admin(), 'content-type': 'application/json' }, body: JSON.stringify({ format: 'jsonl' }) });
              if (response.status !== 202) throw new Error(`export request answered ${response.status}: ${await response.text()}`);
              return ((await response.json()) as { id: string }).id;
            },
            log,
          });
        },
        async () => report?.notes ?? [],
      );
      jobChecks.push(...(report?.checks ?? [{ name: 'worker killed mid-job', ok: false, detail: 'did not run' }]));
    }

    running = false;
    await Promise.all(loops);
    probe.disconnect();
    const processSurvived = facet.alive;

    // Nothing lost or doubled.
    const checks: ChaosCheck[] = [];
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    try {
      const schema = (await client.query(`select schema_name from facet_control.tenants where slug = 'demo'`)).rows[0]?.schema_name as string;
      const rows = Number((await client.query(`select count(*)::int as n from "${schema}".audit_events where type = 'account.signed_out_everywhere' and subject = $1`, [target])).rows[0].n);
      checks.push({ name: 'audit rows match successful admin writes', ok: rows === adminWrites, detail: `${rows} rows, ${adminWrites} writes answered 200` });
    } finally {
      await client.end();
    }
    const verify = (await (await fetch(`${base}/admin/api/audit/verify`, { headers: { authorization: await admin() } })).json()) as { ok: boolean; rows?: number };
    checks.push({ name: 'audit chain verifies', ok: verify.ok === true, detail: JSON.stringify(verify) });
    const refreshRefused = outcomes.filter((o) => o.kind === 'refresh' && o.status === 400).length;
    let chainsAlive = 0;
    for (let i = 0; i < chains.length; i += 1) {
      const response = await fetch(`${base}/token`, { method: 'POST', headers: { authorization: WEB }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: chains[i]! }) });
      if (response.status === 200) chainsAlive += 1;
    }
    const refreshes = outcomes.filter((o) => o.kind === 'refresh' && o.status === 200).length;
    checks.push({ name: 'refresh families intact', ok: refreshRefused === 0 && chainsAlive === chains.length, detail: `${refreshes} rotations, ${refreshRefused} refused, ${chainsAlive}/${chains.length} chains still refresh` });
    const jwks = createRemoteJWKSet(new URL(`${base}/jwks`));
    let valid = 0;
    for (const token of accessTokens) {
      try {
        await jwtVerify(token, jwks, { issuer: base, audience: 'https://api.demo.example/' });
        valid += 1;
      } catch {
        // counted as invalid
      }
    }
    checks.push({ name: 'issued access tokens still verify', ok: valid === accessTokens.length, detail: `${valid}/${accessTokens.length}` });
    checks.push({ name: 'job schedules re-registered', ok: schedulesBackMs !== undefined && schedulesBackMs < 60_000, detail: schedulesBackMs === undefined ? 'not back' : `${schedulesBackMs} ms` });
    checks.push(...jobChecks);
    checks.push({ name: 'Facet process survived', ok: processSurvived, detail: processSurvived ? 'yes' : facet.output().slice(-500) });
    return { faults, checks, unexpected, processSurvived };
  } finally {
    await facet?.kill('SIGKILL');
    await redis.stop();
    await cluster.destroy();
    rmSync(exportDir, { recursive: true, force: true });
  }
}

export function formatReport(report: ChaosReport): string {
  const fmt = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([key]) => !key.endsWith(' 200'))
      .map(([key, n]) => `${key}×${n}`)
      .join(', ') || 'none';
  const lines = ['', 'fault | non-200 during | non-200 after | recovery after the fault ended | notes', '---|---|---|---|---'];
  for (const fault of report.faults) {
    const recovery = Object.entries(fault.recoveryMs).map(([kind, ms]) => `${kind} ${Number.isFinite(ms) ? `${ms} ms` : 'NOT RECOVERED'}`).join(', ') || 'no interruption';
    lines.push(`${fault.name} | ${fmt(fault.during)} | ${fmt(fault.after)} | ${recovery} | ${fault.notes.join('; ')}`);
  }
  lines.push('', 'check | result | detail', '---|---|---');
  for (const check of report.checks) lines.push(`${check.name} | ${check.ok ? 'ok' : 'FAILED'} | ${check.detail}`);
  lines.push('', `unexpected answers (5xx other than 503, resets, 503 without Retry-After, refused refresh): ${report.unexpected.length}`);
  for (const line of report.unexpected.slice(0, 20)) lines.push(`  ${line}`);
  return lines.join('\n');
}
