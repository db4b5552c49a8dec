// Exports on separate nodes (issue 13): with Redis, an export requested through one app node is
// run by a separate `facet worker` process (its own Services), written to the shared
// FACET_AUDIT_EXPORT_DIR, and downloaded through another app node; a node whose export directory
// is not the shared one answers 410 export_gone. Expiry still works from any node: the purge job,
// run by yet another process, deletes the archive in the shared directory and every node answers
// 410 export_expired. Real PostgreSQL and Redis, three HTTP servers, two child processes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/index.ts';
import { startFacet, type RunningFacet } from '../../src/server.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { archivePath } from '../../src/audit/export.ts';
import { verifyExport } from '../../src/audit/verify-export.ts';
import { freePort, projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { adminAccessToken } from '../support/admin-client.ts';
import { realPostgresUrl } from '../support/database.ts';
import { REDIS_URL } from '../ops/helpers.ts';

const facetBin = path.join(projectRoot, 'bin/facet.js');

describe('audit exports across nodes: a worker process writes, another app node serves', { skip: realPostgresUrl ? false : 'needs DATABASE_URL', timeout: 180_000 }, () => {
  let shared: string;
  let own: string;
  let nodeA: TestFacet;
  let nodeB: RunningFacet;
  let nodeC: RunningFacet;
  let urlB: string;
  let urlC: string;
  let worker: ChildProcess | undefined;
  let workerOutput = '';
  let env: Record<string, string>;

  before(async () => {
    shared = mkdtempSync(path.join(tmpdir(), 'facet-shared-exports-'));
    own = mkdtempSync(path.join(tmpdir(), 'facet-own-exports-'));
    nodeA = await startTestFacet({ database: 'postgres', env: { REDIS_URL, FACET_AUDIT_EXPORT_DIR: shared } });
    // The other nodes: same database, Redis and public URL (behind one load balancer), own ports.
    env = {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PUBLIC_URL: nodeA.baseUrl,
      FACET_TENANTS_DIR: path.join(projectRoot, 'tenants'),
      LOG_LEVEL: 'silent',
      REDIS_URL,
      FACET_AUDIT_EXPORT_DIR: shared,
      ...nodeA.testDb.env,
    };
    const portB = await freePort();
    nodeB = await startFacet(loadConfig({ ...env, PORT: String(portB) }), { logger: pino({ level: 'silent' }) });
    urlB = `http://127.0.0.1:${portB}`;
    const portC = await freePort();
    nodeC = await startFacet(loadConfig({ ...env, PORT: String(portC), FACET_AUDIT_EXPORT_DIR: own }), { logger: pino({ level: 'silent' }) });
    urlC = `http://127.0.0.1:${portC}`;
  });
  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = once(worker, 'exit');
      worker.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => worker!.kill('SIGKILL'))]);
    }
    await nodeC?.stop(2000);
    await nodeB?.stop(2000);
    await nodeA?.close();
    rmSync(shared, { recursive: true, force: true });
    rmSync(own, { recursive: true, force: true });
  });

  async function startWorker(): Promise<void> {
    worker = spawn(process.execPath, [facetBin, 'worker', '--metrics-port', '0'], { cwd: projectRoot, env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (chunk) => (workerOutput += chunk));
    worker.stderr!.on('data', (chunk) => (workerOutput += chunk));
    const deadline = Date.now() + 60_000;
    while (!workerOutput.includes('facet worker: running jobs')) {
      if (worker.exitCode !== null) throw new Error(`facet worker exited:\n${workerOutput}`);
      if (Date.now() > deadline) throw new Error(`facet worker did not start:\n${workerOutput}`);
      await sleep(50);
    }
  }

  async function runJobProcess(name: string): Promise<string> {
    const child = spawn(process.execPath, [facetBin, 'jobs', 'run', name], { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, output);
    return output;
  }

  test('requested on node A, run by the worker process, downloaded from node B; node C (own directory) has no copy; expiry removes it for all', async () => {
    const authorization = `Bearer ${await adminAccessToken(nodeA.baseUrl)}`;
    const api = (base: string) => `${base}/t/demo/admin/api/audit/exports`;
    const started = await fetch(api(nodeA.baseUrl), { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ format: 'csv', filters: {} }) });
    assert.equal(started.status, 202, await started.clone().text());
    const { id } = (await started.json()) as { id: string };

    // No app node runs jobs when Redis is configured: the export waits for a worker.
    await sleep(1000);
    const waiting = (await (await fetch(`${api(urlB)}/${id}`, { headers: { authorization } })).json()) as { status: string };
    assert.equal(waiting.status, 'queued');

    await startWorker();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = (await (await fetch(`${api(urlB)}/${id}`, { headers: { authorization } })).json()) as { status: string; error: string | null };
      if (status.status === 'done') break;
      assert.notEqual(status.status, 'failed', status.error ?? '');
      assert.ok(Date.now() < deadline, `export still ${status.status}; worker output:\n${workerOutput}`);
      await sleep(100);
    }
    const file = archivePath(shared, 'demo', id);
    assert.ok(existsSync(file), 'the worker wrote the archive to the shared directory');

    // Node B serves it; it verifies against the key set published by any node.
    const download = await fetch(`${api(urlB)}/${id}/download`, { headers: { authorization } });
    assert.equal(download.status, 200, await download.clone().text());
    assert.equal(download.headers.get('content-type'), 'application/x-tar');
    const copy = path.join(own, 'downloaded.tar');
    writeFileSync(copy, Buffer.from(await download.arrayBuffer()));
    const keys = await (await fetch(`${urlB}/t/demo/audit/keys.json`)).json();
    const verdict = await verifyExport(copy, { keys: keys as never });
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.ok, true);

    // A node configured with its own directory cannot serve it, and says so.
    const elsewhere = await fetch(`${api(urlC)}/${id}/download`, { headers: { authorization } });
    assert.equal(elsewhere.status, 410);
    assert.match(((await elsewhere.json()) as { detail: string }).detail, /no longer on this server/);

    // Expiry: once past its time, the purge job (another process) removes it from the shared directory.
    const demo = (await findTenant(nodeA.database.db, 'demo'))!;
    await withTenant(nodeA.database.db, demo, (trx) => sql`update audit_exports set expires_at = now() - interval '1 minute' where id = ${id}::uuid`.execute(trx));
    const output = await runJobProcess('purge-audit-exports');
    assert.match(output, /"removed":1/);
    assert.equal(existsSync(file), false, 'the archive is gone from the shared directory');
    for (const base of [nodeA.baseUrl, urlB]) {
      const gone = await fetch(`${api(base)}/${id}/download`, { headers: { authorization } });
      assert.equal(gone.status, 410, base);
      assert.match(((await gone.json()) as { detail: string }).detail, /could be downloaded until/);
    }
  });
});
