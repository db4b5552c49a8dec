// With Redis: one BullMQ queue holds every job; schedules are BullMQ job schedulers (stored in
// Redis, so N app nodes upserting the same schedule still produce one run per interval), and a
// `facet worker` process runs startWorker(). Retries use BullMQ's exponential back-off.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { createInlineRunner } from './inline-runner.ts';
import { childLog, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, type JobDefinitions, type JobLogger, type JobMetrics, type JobOutcome } from './types.ts';

export interface BullmqRunnerOptions {
  redis: Redis;
  /** BullMQ key prefix; give tests a unique one. */
  prefix?: string;
  queueName?: string;
  jobs: JobDefinitions;
  logger: JobLogger;
  metrics?: JobMetrics;
  /** Jobs run at once by one worker process. */
  concurrency?: number;
  /**
   * How often a node that registered the schedules checks they are still in Redis (a Redis that
   * lost its data without a reconnect: FLUSHALL, a failover to an empty replica).
   */
  scheduleCheckMs?: number;
  /**
   * How long enqueue() waits for Redis (a request must not hang on a hung Redis); after that the
   * job runs in this process instead, and so do the next ones for `breakerOpenMs`.
   */
  enqueueTimeoutMs?: number;
  /** How long enqueue() skips Redis after it failed or timed out, before one call tries it again. */
  breakerOpenMs?: number;
  /** Per-command timeout of the producer connection (adding jobs, schedules, counts). */
  commandTimeoutMs?: number;
  /**
   * A worker's lock on a running job; it is renewed at half this while the worker lives. A job
   * whose worker died (SIGKILL, OOM, lost host) is run again after about `lockMs` + `stalledCheckMs`.
   */
  lockMs?: number;
  /** How often a worker looks for jobs whose worker died (BullMQ's stalled-job check). */
  stalledCheckMs?: number;
}

/** Reconnect back-off of every BullMQ connection: 200 ms, 400 ms, … at most 2 s. */
export const reconnectDelay = (times: number) => Math.min(times * 200, 2000);

export function createBullmqRunner({
  redis,
  prefix = 'facet',
  queueName = 'facet-jobs',
  jobs,
  logger,
  metrics,
  concurrency = 2,
  scheduleCheckMs = 30_000,
  enqueueTimeoutMs = 1000,
  breakerOpenMs = 5000,
  commandTimeoutMs = 1000,
  lockMs = 30_000,
  stalledCheckMs = 30_000,
}: BullmqRunnerOptions) {
  // BullMQ opens its own connections; reuse the caller's settings but not its client.
  const { keyPrefix: _ignored, ...base } = redis.options as RedisOptions;
  // The producer (the Queue: adding jobs from requests, schedules, counts) fails fast: a short
  // connect timeout, every command timed out, no queueing of commands while disconnected.
  // (ioredis 6's option types are stricter than BullMQ's copy of them; the values are the same.)
  const producer = {
    ...base,
    lazyConnect: false,
    connectTimeout: 2000,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: reconnectDelay,
  } as ConnectionOptions;
  // A worker (and QueueEvents) blocks on Redis waiting for jobs, so a per-command timeout would cut
  // every wait short: BullMQ requires unlimited retries there, and ioredis' blocking-command guard
  // (the command's own block time + 1 s, or 10 s) ends a wait on a hung Redis instead.
  const consumer = {
    ...base,
    lazyConnect: false,
    connectTimeout: 2000,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    blockingTimeout: 10_000,
    blockingTimeoutGrace: 1000,
    retryStrategy: reconnectDelay,
  } as ConnectionOptions;
  const queue = new Queue(queueName, { connection: producer, prefix });
  // Redis down means an error every reconnect attempt: say it once a minute, not once a second.
  const lastWarned = new Map<string, number>();
  const warnThrottled = (message: string, fields: object) => {
    if (Date.now() - (lastWarned.get(message) ?? 0) < 60_000) return;
    lastWarned.set(message, Date.now());
    logger.warn(fields, message);
  };
  queue.on('error', (error) => warnThrottled('job queue connection error', { err: error, queue: queueName }));
  let worker: Worker | undefined;
  let events: QueueEvents | undefined;

  function jobOptions(name: string) {
    const definition = jobs[name];
    return {
      attempts: Math.max(1, definition.attempts ?? DEFAULT_ATTEMPTS),
      backoff: { type: 'exponential' as const, delay: definition.backoff ?? DEFAULT_BACKOFF_MS },
      // Keep a short history for the console; never let Redis fill up with finished jobs.
      removeOnComplete: { count: 100, age: 7 * 24 * 3600 },
      removeOnFail: { count: 500, age: 30 * 24 * 3600 },
    };
  }

  async function process(job: Job): Promise<unknown> {
    const definition = jobs[job.name];
    if (!definition) throw new UnrecoverableError(`unknown job ${job.name}`);
    const log = childLog(logger, { job: job.name, jobId: job.id, attempt: job.attemptsMade + 1 });
    return definition.handler({
      name: job.name,
      id: String(job.id),
      attempt: job.attemptsMade + 1,
      data: (job.data ?? {}) as Record<string, unknown>,
      log,
      progress: async (value) => {
        log.info({ progress: value }, 'job progress');
        await job.updateProgress(value);
      },
    });
  }

  function assertKnown(name: string) {
    if (!jobs[name]) throw new Error(`unknown job ${name}`);
  }

  const scheduled = Object.entries(jobs).filter(([, definition]) => definition.every);

  /** Creates or updates every repeatable schedule (idempotent: one scheduler per job name). */
  async function upsertSchedules(): Promise<void> {
    for (const [name, definition] of scheduled) {
      await queue.upsertJobScheduler(name, { every: definition.every! }, { name, data: {}, opts: jobOptions(name) });
    }
  }

  // Schedules live in Redis: a Redis restarted without its data, flushed or failed over to an
  // empty replica has none. Every node that registered them puts them back when its connection
  // becomes ready again, and checks every scheduleCheckMs that they are still there.
  let watch: { timer: NodeJS.Timeout; connection: { off(event: 'ready', listener: () => void): unknown }; onReady: () => void } | undefined;
  let checking = false;
  async function ensureSchedules(reason: string): Promise<void> {
    if (checking) return;
    checking = true;
    try {
      if ((await queue.getJobSchedulersCount()) >= scheduled.length) return;
      logger.warn({ queue: queueName, reason }, 'job schedules missing from Redis; registering them again');
      await upsertSchedules();
    } catch (error) {
      warnThrottled('could not check the job schedules', { err: error, queue: queueName });
    } finally {
      checking = false;
    }
  }

  // Where enqueue() runs a job while the queue is unreachable: in this process, as without Redis.
  const here = createInlineRunner({ jobs, logger, ...(metrics ? { metrics } : {}) });
  let openUntil = 0;
  let trying = false;
  async function runHere(name: string, data: Record<string, unknown>, jobId: string | undefined, reason: string): Promise<string> {
    warnThrottled('job queue (Redis) unavailable; running jobs in this process', { queue: queueName, job: name, jobId, reason });
    return `inline:${await here.enqueue(name, data)}`;
  }

  return {
    mode: 'bullmq' as const,
    queue,
    /**
     * Adds a job. A `jobId` makes it idempotent: while a job with that id exists (waiting, active,
     * or kept after finishing), adding it again is a no-op.
     */
    async enqueue(name: string, data: Record<string, unknown> = {}, { jobId }: { jobId?: string } = {}): Promise<string> {
      assertKnown(name);
      // Circuit breaker: after a failure, skip Redis for breakerOpenMs; then one call at a time
      // tries it again while the others keep running here.
      if (Date.now() < openUntil || trying) return runHere(name, data, jobId, 'breaker open');
      trying = true;
      const adding = queue.add(name, data, { ...jobOptions(name), ...(jobId ? { jobId } : {}) });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the job queue (Redis) did not answer within ${enqueueTimeoutMs} ms`)), enqueueTimeoutMs);
      });
      try {
        const job = await Promise.race([adding, timeout]);
        if (openUntil) logger.info({ queue: queueName }, 'job queue (Redis) answers again; jobs go to the queue');
        openUntil = 0;
        return String(job.id);
      } catch (error) {
        openUntil = Date.now() + breakerOpenMs;
        return runHere(name, data, jobId, (error as Error).message);
      } finally {
        trying = false;
        clearTimeout(timer);
        // A hung Redis may still take the job later and a worker run it again: handlers are
        // idempotent (types.ts), and a jobId keeps it to one queued copy.
        adding.catch(() => {});
      }
    },
    /** Adds a job and waits for its final outcome (after retries); needs a worker running somewhere. */
    async run(name: string, data: Record<string, unknown> = {}, { timeoutMs = 60_000 }: { timeoutMs?: number } = {}): Promise<JobOutcome> {
      assertKnown(name);
      if (!events) {
        events = new QueueEvents(queueName, { connection: consumer, prefix });
        events.on('error', (error) => warnThrottled('job events connection error', { err: error }));
        await events.waitUntilReady();
      }
      const job = await queue.add(name, data, { ...jobOptions(name), jobId: randomUUID() });
      try {
        const result = await job.waitUntilFinished(events, timeoutMs);
        const done = await queue.getJob(String(job.id));
        return { id: String(job.id), name, status: 'completed', attempts: done?.attemptsMade ?? 1, result };
      } catch (error) {
        const failed = await queue.getJob(String(job.id));
        return { id: String(job.id), name, status: 'failed', attempts: failed?.attemptsMade ?? 0, error: (error as Error).message };
      }
    },
    /**
     * Creates or updates the repeatable schedules; safe to call from every node at start-up. From
     * then on they are registered again whenever this node reconnects to Redis or finds them gone.
     */
    async schedule(): Promise<void> {
      await upsertSchedules();
      if (watch || scheduled.length === 0) return;
      // BullMQ's connection says 'ready' again after every reconnect of its Redis client.
      const connection = queue.getBackend().connection;
      const onReady = () => void ensureSchedules('reconnected');
      connection.on('ready', onReady);
      const timer = setInterval(() => void ensureSchedules('periodic check'), scheduleCheckMs);
      timer.unref();
      watch = { timer, connection, onReady };
    },
    /** Runs jobs in this process (the `facet worker` command). */
    async startWorker(): Promise<void> {
      if (worker) return;
      worker = new Worker(queueName, process, { connection: consumer, prefix, concurrency, lockDuration: lockMs, stalledInterval: stalledCheckMs, maxStalledCount: 1 });
      worker.on('error', (error) => warnThrottled('job worker connection error', { err: error }));
      worker.on('completed', (job) => {
        metrics?.jobRuns.inc({ job: job.name, outcome: 'completed' });
        logger.info({ job: job.name, jobId: job.id, attempts: job.attemptsMade }, 'job completed');
      });
      worker.on('failed', (job, error) => {
        if (!job) return;
        metrics?.jobFailures.inc({ job: job.name });
        const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError;
        if (final) {
          metrics?.jobRuns.inc({ job: job.name, outcome: 'failed' });
          logger.error({ job: job.name, jobId: job.id, attempts: job.attemptsMade, err: error }, 'job failed; no attempts left');
        } else {
          logger.warn({ job: job.name, jobId: job.id, attempts: job.attemptsMade, err: error }, 'job attempt failed; will retry');
        }
      });
      await worker.waitUntilReady();
      logger.info({ queue: queueName, concurrency }, 'job worker started');
    },
    /** Waiting + delayed jobs, for the facet_job_queue_depth gauge. */
    async queueDepth(): Promise<Array<{ queue: string; value: number }>> {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
      return [{ queue: queueName, value: Object.values(counts).reduce((a, b) => a + b, 0) }];
    },
    /** Lets the active jobs finish, then closes BullMQ's connections (not the caller's client). */
    async close(): Promise<void> {
      if (watch) {
        clearInterval(watch.timer);
        watch.connection.off('ready', watch.onReady);
      }
      await worker?.close();
      await events?.close();
      await queue.close();
      await here.close();
    },
  };
}
