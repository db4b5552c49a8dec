import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { EventEmitter } from 'node:events';
import { createJobRunner, runWorkerProcess, type JobRunner } from '../../src/jobs/index.ts';
import { startMetricsServer } from '../../src/observability/metrics-server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { REDIS_URL, recordingLogger, uniqueName } from './helpers.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
redis.on('error', () => {});
after(() => redis.disconnect());

/** Deletes every key under a test's prefix (after its runner has closed, so nothing rewrites them). */
async function purgePrefix(prefix: string) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function withRunner(runner: JobRunner, prefix: string | undefined, work: () => Promise<void>) {
  try {
    await work();
  } finally {
    await runner.close();
    if (prefix) await purgePrefix(prefix);
  }
}

describe('jobs on BullMQ (Redis)', () => {
  it('runs a job, records progress, and retries after a thrown error with back-off', async () => {
    const logger = recordingLogger();
    const metrics = createMetrics();
    const calls: number[] = [];
    const prefix = uniqueName('jobtest');
    const runner = createJobRunner({
      redis,
      prefix,
      logger,
      metrics,
      jobs: {
        flaky: {
          attempts: 3,
          backoff: 20,
          async handler(ctx) {
            calls.push(ctx.attempt);
            await ctx.progress(50);
            if (ctx.attempt === 1) throw new Error('transient');
            await ctx.progress(100);
            return { purged: 7 };
          },
        },
        broken: {
          attempts: 2,
          backoff: 10,
          handler() {
            throw new Error('always');
          },
        },
      },
    });
    await withRunner(runner, prefix, async () => {
      assert.equal(runner.mode, 'bullmq');
      await runner.startWorker();
      const ok = await runner.run('flaky', { tenant: 'acme' });
      assert.equal(ok.status, 'completed');
      assert.deepEqual(ok.result, { purged: 7 });
      assert.deepEqual(calls, [1, 2]);
      const job = await (runner as any).queue.getJob(ok.id);
      assert.equal(job.progress, 100);
      assert.deepEqual(job.data, { tenant: 'acme' });
      assert.ok(logger.entries.some((e) => e.msg === 'job progress' && (e.obj as any).progress === 50));
      assert.ok(logger.entries.some((e) => e.level === 'warn' && e.msg.includes('will retry')));

      const bad = await runner.run('broken');
      assert.equal(bad.status, 'failed');
      assert.equal(bad.error, 'always');
      assert.equal(bad.attempts, 2);
      const text = await metrics.registry.metrics();
      assert.match(text, /facet_job_failures_total\{job="flaky"\} 1/);
      assert.match(text, /facet_job_failures_total\{job="broken"\} 2/);
      assert.match(text, /facet_job_runs_total\{job="flaky",outcome="completed"\} 1/);
      assert.match(text, /facet_job_runs_total\{job="broken",outcome="failed"\} 1/);
    });
  });

  it('enqueueing with a job id is idempotent, and schedules are upserted once however often registered', async () => {
    let runs = 0;
    const prefix = uniqueName('jobtest');
    const runner = createJobRunner({
      redis,
      prefix,
      logger: recordingLogger(),
      jobs: {
        purge: { every: 3_600_000, handler: () => void runs++ },
        rotate: { every: 86_400_000, handler: () => {} },
        adhoc: { handler: () => void runs++ },
      },
    });
    await withRunner(runner, prefix, async () => {
      const a = await runner.enqueue('adhoc', {}, { jobId: 'rekey-acme-k2' });
      const b = await runner.enqueue('adhoc', {}, { jobId: 'rekey-acme-k2' });
      assert.equal(a, b);
      const [depth] = await runner.queueDepth();
      assert.equal(depth.value, 1, 'one job waiting, not two');
      await runner.schedule();
      await runner.schedule();
      const schedulers = await (runner as any).queue.getJobSchedulers();
      assert.deepEqual(schedulers.map((s: any) => s.key ?? s.id ?? s.name).sort(), ['purge', 'rotate']);
      await assert.rejects(runner.enqueue('nope'), /unknown job nope/);
    });
  });
});

describe('jobs inline (no Redis)', () => {
  function fakeTimers() {
    const intervals: Array<{ fn: () => void; ms: number; unref(): void }> = [];
    return {
      intervals,
      setTimeout: (fn: () => void) => {
        queueMicrotask(fn);
        return {};
      },
      clearTimeout: () => {},
      setInterval: (fn: () => void, ms: number) => {
        const entry = { fn, ms, unref() {} };
        intervals.push(entry);
        return entry;
      },
      clearInterval: (h: unknown) => {
        intervals.splice(intervals.indexOf(h as any), 1);
      },
    };
  }

  it('runs the same handlers in-process with retries and progress', async () => {
    const logger = recordingLogger();
    const metrics = createMetrics();
    let attempts = 0;
    const runner = createJobRunner({
      logger,
      metrics,
      timers: fakeTimers(),
      jobs: {
        flaky: {
          attempts: 3,
          backoff: 60_000,
          async handler(ctx) {
            attempts = ctx.attempt;
            await ctx.progress({ done: ctx.attempt });
            if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt}`);
            return 'ok';
          },
        },
      },
    });
    assert.equal(runner.mode, 'inline');
    const outcome = await runner.run('flaky');
    assert.equal(outcome.status, 'completed');
    assert.equal(outcome.attempts, 3);
    assert.equal(attempts, 3);
    assert.equal(outcome.result, 'ok');
    assert.equal(logger.entries.filter((e) => e.msg === 'job progress').length, 3);
    assert.match(await metrics.registry.metrics(), /facet_job_failures_total\{job="flaky"\} 2/);
    await runner.close();
  });

  it('schedules on timers, skips a run while the previous one is still going, and stops on close', async () => {
    const timers = fakeTimers();
    let started = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      started++;
      await gate;
    };
    const runner = createJobRunner({ logger: recordingLogger(), timers, jobs: { slow: { every: 60_000, handler: slow } } });
    await runner.startWorker();
    assert.equal(timers.intervals.length, 1);
    assert.equal(timers.intervals[0].ms, 60_000);
    // The first run hangs until released; the second tick comes while it is still going.
    timers.intervals[0].fn();
    timers.intervals[0].fn();
    await new Promise((r) => setImmediate(r));
    assert.equal(started, 1, 'overlapping tick skipped');
    release();
    await runner.close();
    assert.equal(timers.intervals.length, 0);
  });

  it('refuses schedules shorter than a second', () => {
    assert.throws(() => createJobRunner({ logger: recordingLogger(), jobs: { x: { every: 10, handler: () => {} } } }), /at least 1000 ms/);
  });
});

describe('worker process', () => {
  it('runs until a signal, lets the running job finish, and exposes job metrics on its own port', async () => {
    const fakeProcess = new EventEmitter();
    const metrics = createMetrics();
    const prefix = uniqueName('jobtest');
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const runner = createJobRunner({
      redis,
      prefix,
      logger: recordingLogger(),
      metrics,
      jobs: {
        long: {
          async handler() {
            order.push('job started');
            markStarted();
            await gate;
            order.push('job finished');
          },
        },
      },
    });
    const server = await startMetricsServer(metrics.registry, { port: 0, host: '127.0.0.1', token: 't0ken' });
    try {
      const stopped = runWorkerProcess({ runner, logger: recordingLogger(), process: fakeProcess as any, onStopped: () => void order.push('stopped') });
      await runner.enqueue('long');
      await started;
      fakeProcess.emit('SIGTERM', 'SIGTERM');
      // The job is still running when the signal arrives; stopping must wait for it.
      assert.deepEqual(order, ['job started']);
      release();
      await stopped;
      assert.deepEqual(order, ['job started', 'job finished', 'stopped']);
      const url = `http://127.0.0.1:${server.port}/metrics`;
      assert.equal((await fetch(url)).status, 401);
      const text = await (await fetch(url, { headers: { authorization: 'Bearer t0ken' } })).text();
      assert.match(text, /facet_job_runs_total\{job="long",outcome="completed"\} 1/);
    } finally {
      release();
      await server.close();
      await purgePrefix(prefix);
    }
  });
});
