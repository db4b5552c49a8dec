// A hung Redis and the job producer on the request path (issue 17: every Redis call has a short
// timeout and a circuit breaker): the admin API's audit export enqueues a job. With Redis stopped
// (SIGSTOP, socket open) the first request waits at most the enqueue timeout (1 s), later ones not
// at all (breaker open); the export then runs in the app process, as without Redis, and is done.
// The jobs whose add reached the hung Redis land there when it resumes and a worker runs them
// again: the export stays done once (one `audit.exported` each). Own redis-server, PGlite.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { startTestFacet } from '../support/facet.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant, installationPrefix } from '../../src/tenancy/registry.ts';
import { createJobRunner } from '../../src/jobs/index.ts';
import { facetJobs } from '../../src/jobs/definitions.ts';
import { recordingLogger } from './helpers.ts';
import { adminAuthorization } from '../support/admin-client.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('audit exports requested while Redis hangs: answered within the enqueue timeout, run in the app, done once', { timeout: 120_000 }, async () => {
  const redisServer = await startRedisServer();
  const exportDir = mkdtempSync(path.join(tmpdir(), 'facet-queue-hang-'));
  const facet = await startTestFacet({ database: 'pglite', env: { REDIS_URL: redisServer.url, FACET_AUDIT_EXPORT_DIR: exportDir } });
  const client = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  let worker: ReturnType<typeof createJobRunner> | undefined;
  // The admin API's machine client; its token is got while Redis answers and reused while it hangs.
  const ADMIN = await adminAuthorization(facet.baseUrl);
  try {
    const requestExport = async () => {
      const started = Date.now();
      const response = await fetch(`${facet.baseUrl}/t/demo/admin/api/audit/exports`, {
        method: 'POST',
        headers: { authorization: ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'jsonl' }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await response.json()) as { id: string };
      return { status: response.status, id: body.id, ms: Date.now() - started };
    };
    const statusOf = async (id: string) => ((await (await fetch(`${facet.baseUrl}/t/demo/admin/api/audit/exports/${id}`, { headers: { authorization: ADMIN } })).json()) as { status: string }).status;

    const queued = await requestExport();
    assert.equal(queued.status, 202);
    // No worker yet: with Redis answering, the job waits in the queue.
    await sleep(500);
    assert.equal(await statusOf(queued.id), 'queued');

    redisServer.pause();
    const first = await requestExport();
    const second = await requestExport();
    assert.deepEqual([first.status, second.status], [202, 202]);
    // The admin API's rate limiter gives Redis 200 ms, the job queue 1 s; then each breaker opens.
    assert.ok(first.ms < 1800, `first request during the hang took ${first.ms} ms`);
    assert.ok(second.ms < 300, `second request during the hang took ${second.ms} ms`);
    for (const { id } of [first, second]) {
      const deadline = Date.now() + 15_000;
      while ((await statusOf(id)) !== 'done' && Date.now() < deadline) await sleep(100);
      assert.equal(await statusOf(id), 'done', 'run in the app process while Redis hangs');
    }
    console.log(`Redis hung: export requests answered 202 in ${first.ms} ms and ${second.ms} ms, both exports done in the app process`);
    redisServer.resume();

    // A worker after the hang runs the queued export, and again whatever reached Redis late.
    worker = createJobRunner({
      redis: client,
      prefix: `facet:${await installationPrefix(facet.database.db)}`,
      jobs: facetJobs({ db: facet.database.db, audit: { kek: facet.config.kek, publicUrl: facet.config.publicUrl, settings: facet.config.audit } }),
      logger: recordingLogger(),
    });
    await worker.startWorker();
    const deadline = Date.now() + 20_000;
    while ((await statusOf(queued.id)) !== 'done' && Date.now() < deadline) await sleep(100);
    assert.equal(await statusOf(queued.id), 'done');
    const queue = (worker as unknown as { queue: { getJobState(id: string): Promise<string> } }).queue;
    const late = await Promise.all([first, second].map(({ id }) => queue.getJobState(`audit-export-${id}`)));
    for (let waited = 0; late.some((state) => state !== 'completed' && state !== 'unknown') && waited < 10_000; waited += 100) {
      await sleep(100);
      late.splice(0, 2, ...(await Promise.all([first, second].map(({ id }) => queue.getJobState(`audit-export-${id}`)))));
    }
    console.log(`jobs added during the hang, in Redis after it: ${late.join(', ')}`);
    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    const exported = await withTenant(facet.database.db, tenant, async (trx) =>
      (await sql<{ id: string; n: number }>`select data->>'export_id' as id, count(*)::int as n from audit_events where type = 'audit.exported' group by 1`.execute(trx)).rows,
    );
    for (const { id } of [queued, first, second]) assert.equal(exported.find((row) => row.id === id)?.n, 1, `one audit.exported for ${id}`);
  } finally {
    redisServer.resume();
    await worker?.close();
    client.disconnect();
    await facet.close();
    await redisServer.stop();
    rmSync(exportDir, { recursive: true, force: true });
  }
});
