// Chaos fault "worker killed mid-job" (issue 17): a `facet worker` process (its own process, as in
// production) is SIGKILLed while it runs jobs, a new worker starts, and the checks show that every
// job ran exactly once in effect — none lost, none doubled. Used by the chaos harness (jobs
// requested through Facet's admin API) and by test/ops/worker-kill.test.ts (jobs enqueued
// directly, no Facet process). The caller brings its own PostgreSQL database and redis-server.
//
// The jobs: audit exports (each a one-off job with effects that would show a second run: an
// archive, a signed checkpoint, an `audit.exported` event) made slow enough to be caught running
// by filler rows in the tenant's audit log, plus every housekeeping job once (their effects are
// "bring the state to X"; the check is that none is lost).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Queue } from 'bullmq';
import { projectRoot } from '../support/facet.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const HOUSEKEEPING = ['purge-oidc-records', 'purge-failed-attempts', 'retire-signing-keys', 'verify-audit-chains', 'audit-checkpoint', 'purge-audit-exports'];

export interface WorkerKillCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface WorkerKillOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Tenant whose audit log is exported. */
  tenant: string;
  exportDir: string;
  /** The worker's job lock (FACET_JOB_LOCK_MS): a dead worker's job runs again after about twice this. */
  lockMs: number;
  /** Audit rows added so that one export takes long enough to be caught running (20,000 ≈ 1 s). */
  fillerRows: number;
  exports: number;
  /** Requests one export and puts it on the queue; returns the export id. */
  requestExport(): Promise<string>;
  /** Puts a housekeeping job on the queue with the given job id (default: straight onto the queue). */
  enqueue?(name: string, jobId: string): Promise<void>;
  log?: (line: string) => void;
}

export interface WorkerKillReport {
  checks: WorkerKillCheck[];
  notes: string[];
  /** From the SIGKILL until every job had completed. */
  recoveryMs: number;
}

interface WorkerProcess {
  child: ChildProcess;
  output(): string;
}

async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'bin/facet.js'), 'worker', '--metrics-port', '0'], {
    cwd: projectRoot,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', FACET_DATA_DIR: 'memory://', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (!output.includes('facet worker: running jobs')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`facet worker exited during start:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`facet worker did not start:\n${output}`);
    }
    await sleep(50);
  }
  return { child, output: () => output };
}

async function stopWorker(worker: WorkerProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = once(worker.child, 'exit');
  worker.child.kill(signal);
  await Promise.race([exited, sleep(15_000).then(() => worker.child.kill('SIGKILL'))]);
}

export async function runWorkerKill(options: WorkerKillOptions): Promise<WorkerKillReport> {
  const { databaseUrl, redisUrl, tenant, exportDir, lockMs, fillerRows, exports, log = () => {} } = options;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, FACET_JOB_LOCK_MS: String(lockMs), FACET_AUDIT_EXPORT_DIR: exportDir };
  let first: WorkerProcess | undefined;
  let second: WorkerProcess | undefined;
  const notes: string[] = [];
  const checks: WorkerKillCheck[] = [];
  const installation = (await client.query(`select role_prefix from facet_control.installation`)).rows[0].role_prefix as string;
  const redisAt = new URL(redisUrl);
  const queue = new Queue('facet-jobs', { connection: { host: redisAt.hostname, port: Number(redisAt.port || 6379), maxRetriesPerRequest: 1 }, prefix: `facet:${installation}` });
  queue.on('error', () => {});
  try {
    const schema = (await client.query(`select schema_name from facet_control.tenants where slug = $1`, [tenant])).rows[0].schema_name as string;
    // Filler rows (the chain trigger links each one, reading the tenant's schema from the search
    // path) so that an export takes a while.
    await client.query('begin');
    await client.query(`set local search_path = "${schema}"`);
    await client.query(
      `insert into audit_events (type, subject, data, prev_hash, hash)
       select 'token.issued', 'filler-' || (g % 100), jsonb_build_object('kinds', jsonb_build_array('access_token'), 'grant_type', 'client_credentials', 'n', g), '', ''
       from generate_series(1, $1::int) g`,
      [fillerRows],
    );
    await client.query('commit');

    first = await startWorker(env);
    const ids: string[] = [];
    for (let i = 0; i < exports; i += 1) ids.push(await options.requestExport());
    const housekeeping = HOUSEKEEPING.map((name) => ({ name, jobId: `chaos-${name}-${Date.now()}` }));
    for (const job of housekeeping) await (options.enqueue ? options.enqueue(job.name, job.jobId) : queue.add(job.name, {}, { jobId: job.jobId }).then(() => {}));
    log(`worker kill: ${ids.length} exports and ${housekeeping.length} housekeeping jobs queued`);

    // Wait until an export is running (its row says so and BullMQ holds it as active), then kill.
    const deadline = Date.now() + 30_000;
    let runningAtKill: string[] = [];
    for (;;) {
      const running = (await client.query(`select id::text from "${schema}".audit_exports where id = any($1::uuid[]) and status = 'running'`, [ids])).rows.map((r) => r.id as string);
      if (running.length > 0) {
        first.child.kill('SIGKILL');
        runningAtKill = running;
        break;
      }
      if (Date.now() > deadline) throw new Error(`no export seen running within 30 s:\n${first.output()}`);
      await sleep(10);
    }
    const killedAt = Date.now();
    await once(first.child, 'exit').catch(() => {});
    const active = (await queue.getActive()).map((job) => String(job.id));
    const doneAtKill = Number((await client.query(`select count(*)::int as n from "${schema}".audit_exports where id = any($1::uuid[]) and status = 'done'`, [ids])).rows[0].n);
    notes.push(`killed with ${active.length} job(s) active, ${doneAtKill}/${ids.length} exports done`);
    checks.push({
      name: 'worker killed mid-job',
      // (An export seen running may still have finished in the instant before the signal; one
      // export left active by the dead worker is what shows the kill came mid-job.)
      ok: active.some((id) => ids.some((exportId) => id === `audit-export-${exportId}`)),
      detail: `export(s) ${runningAtKill.join(', ')} running at the SIGKILL; active in the queue afterwards: ${active.join(', ') || 'none'}`,
    });

    second = await startWorker(env);
    let recoveryMs = Number.POSITIVE_INFINITY;
    const jobIds = [...ids.map((id) => `audit-export-${id}`), ...housekeeping.map((job) => job.jobId)];
    const until = Date.now() + Math.max(60_000, 4 * lockMs + 20_000);
    let states: string[] = [];
    while (Date.now() < until) {
      states = await Promise.all(jobIds.map(async (id) => (await queue.getJobState(id)) as string));
      if (states.every((state) => state === 'completed' || state === 'failed')) {
        recoveryMs = Date.now() - killedAt;
        break;
      }
      await sleep(100);
    }
    notes.push(Number.isFinite(recoveryMs) ? `all ${jobIds.length} jobs finished ${recoveryMs} ms after the SIGKILL (job lock ${lockMs} ms)` : 'jobs NOT finished');
    const stalled = (await Promise.all(jobIds.map((id) => queue.getJob(id)))).filter((job) => (job?.stalledCounter ?? 0) > 0).map((job) => String(job!.id));
    checks.push({ name: 'no job lost', ok: states.every((state) => state === 'completed'), detail: `${states.filter((s) => s === 'completed').length}/${jobIds.length} completed; run again after the kill: ${stalled.join(', ') || 'none'}` });

    // Each export ran exactly once in effect.
    const rows = (await client.query(`select id::text, status, sha256, file_name from "${schema}".audit_exports where id = any($1::uuid[])`, [ids])).rows as Array<{ id: string; status: string; sha256: string | null; file_name: string | null }>;
    const done = rows.filter((row) => row.status === 'done').length;
    checks.push({ name: 'every export done', ok: done === ids.length, detail: `${done}/${ids.length} done` });
    const events = (await client.query(`select type, data->>'export_id' as id, count(*)::int as n from "${schema}".audit_events where type in ('audit.exported', 'audit.export_failed') and data->>'export_id' = any($1) group by 1, 2`, [ids])).rows as Array<{ type: string; id: string; n: number }>;
    const exported = ids.map((id) => events.find((e) => e.type === 'audit.exported' && e.id === id)?.n ?? 0);
    const failed = events.filter((e) => e.type === 'audit.export_failed').reduce((sum, e) => sum + e.n, 0);
    checks.push({ name: 'one audit.exported per export', ok: exported.every((n) => n === 1) && failed === 0, detail: `per export: ${exported.join(' ')}; audit.export_failed: ${failed}` });
    const checkpoints = (await client.query(`select reason, count(*)::int as n from "${schema}".audit_checkpoints where reason = any($1) group by 1`, [ids.map((id) => `export ${id}`)])).rows as Array<{ reason: string; n: number }>;
    const perExport = ids.map((id) => checkpoints.find((c) => c.reason === `export ${id}`)?.n ?? 0);
    checks.push({ name: 'one signed checkpoint per export', ok: perExport.every((n) => n === 1), detail: `per export: ${perExport.join(' ')}` });
    const folder = path.join(exportDir, tenant);
    const matching = rows.filter((row) => row.file_name && createHash('sha256').update(readFileSync(path.join(folder, row.file_name))).digest('hex') === row.sha256).length;
    const leftovers = readdirSync(folder).filter((name) => name.startsWith('.audit-export-'));
    checks.push({ name: 'archives match their recorded digest', ok: matching === ids.length, detail: `${matching}/${ids.length}; temporary files of the killed run left behind: ${leftovers.length}` });
    return { checks, notes, recoveryMs };
  } finally {
    await stopWorker(first, 'SIGKILL');
    await stopWorker(second, 'SIGTERM');
    await queue.close().catch(() => {});
    await client.end();
  }
}
