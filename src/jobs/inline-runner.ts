// Without Redis: the same handlers run in this process. Schedules use unref'd timers (they never
// keep the process alive), retries wait with exponential back-off, and overlapping runs of one job
// are skipped rather than stacked.
import { randomUUID } from 'node:crypto';
import { childLog, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, type JobDefinitions, type JobLogger, type JobMetrics, type JobOutcome } from './types.ts';

export interface Timers {
  setTimeout(fn: () => void, ms: number): { unref?(): unknown };
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): { unref?(): unknown };
  clearInterval(handle: unknown): void;
}

export interface InlineRunnerOptions {
  jobs: JobDefinitions;
  logger: JobLogger;
  metrics?: JobMetrics;
  /** Injectable for tests. */
  timers?: Timers;
}

export function createInlineRunner({ jobs, logger, metrics, timers = globalThis as unknown as Timers }: InlineRunnerOptions) {
  const intervals: unknown[] = [];
  const running = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  let stopped = false;

  const wakers = new Set<() => void>();
  // Back-off waits end early on close(), so shutdown never waits out a retry delay.
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const handle = timers.setTimeout(done, ms);
      handle.unref?.();
      wakers.add(done);
      function done() {
        wakers.delete(done);
        timers.clearTimeout(handle);
        resolve();
      }
    });

  async function run(name: string, data: Record<string, unknown> = {}): Promise<JobOutcome> {
    const definition = jobs[name];
    if (!definition) throw new Error(`unknown job ${name}`);
    const id = `inline-${randomUUID()}`;
    const attempts = Math.max(1, definition.attempts ?? DEFAULT_ATTEMPTS);
    const backoff = definition.backoff ?? DEFAULT_BACKOFF_MS;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const log = childLog(logger, { job: name, jobId: id, attempt });
      try {
        const result = await definition.handler({
          name,
          id,
          attempt,
          data,
          log,
          progress: async (value) => log.info({ progress: value }, 'job progress'),
        });
        metrics?.jobRuns.inc({ job: name, outcome: 'completed' });
        log.info({}, 'job completed');
        return { id, name, status: 'completed', attempts: attempt, result };
      } catch (error) {
        lastError = (error as Error)?.message ?? String(error);
        metrics?.jobFailures.inc({ job: name });
        if (attempt === attempts || stopped) {
          metrics?.jobRuns.inc({ job: name, outcome: 'failed' });
          log.error({ err: error }, 'job failed; no attempts left');
          return { id, name, status: 'failed', attempts: attempt, error: lastError };
        }
        const delay = backoff * 2 ** (attempt - 1);
        log.warn({ err: error, retryInMs: delay }, 'job attempt failed; will retry');
        await wait(delay);
        if (stopped) {
          metrics?.jobRuns.inc({ job: name, outcome: 'failed' });
          return { id, name, status: 'failed', attempts: attempt, error: `${lastError} (stopped before retry)` };
        }
      }
    }
    return { id, name, status: 'failed', attempts, error: lastError };
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  }

  function tick(name: string) {
    // A slow run still in progress when the next tick comes: skip, don't stack.
    if (running.has(name) || stopped) return;
    running.add(name);
    track(run(name).catch((error) => logger.error({ job: name, err: error }, 'job crashed'))).finally(() => running.delete(name));
  }

  return {
    mode: 'inline' as const,
    run,
    /** Starts in the background; returns the id. */
    async enqueue(name: string, data: Record<string, unknown> = {}): Promise<string> {
      if (!jobs[name]) throw new Error(`unknown job ${name}`);
      const outcome = track(run(name, data));
      void outcome.catch(() => {});
      return 'inline';
    },
    /** Inline schedules live in startWorker; nothing to persist. */
    async schedule(): Promise<void> {},
    async startWorker(): Promise<void> {
      for (const [name, definition] of Object.entries(jobs)) {
        if (!definition.every) continue;
        const handle = timers.setInterval(() => tick(name), definition.every);
        handle.unref?.();
        intervals.push(handle);
      }
      logger.info({ jobs: Object.keys(jobs).filter((n) => jobs[n].every) }, 'inline job schedules started (no Redis)');
    },
    async queueDepth(): Promise<Array<{ queue: string; value: number }>> {
      return [{ queue: 'inline', value: pending.size }];
    },
    /** Stops schedules and waits for runs in progress. */
    async close(): Promise<void> {
      stopped = true;
      for (const handle of intervals) timers.clearInterval(handle);
      intervals.length = 0;
      // Each wake removes itself; deleting the visited entry during Set iteration is well defined.
      for (const wake of wakers) wake();
      await Promise.allSettled(pending);
    },
  };
}
