// Background jobs: on BullMQ when Redis is configured, else in-process. Both runners expose the
// same surface, so the lead registers jobs once:
//
//   const runner = createJobRunner({ redis, jobs: { 'purge-failed-attempts': { every: 3_600_000, handler } }, logger });
//   await runner.schedule();      // app and worker at start-up (no-op inline)
//   await runner.startWorker();   // `facet worker` with Redis; the app itself without Redis
//
// See types.ts for the idempotency contract every handler must meet.
import type { Redis } from 'ioredis';
import { createBullmqRunner } from './bullmq-runner.ts';
import { createInlineRunner, type Timers } from './inline-runner.ts';
import type { JobDefinitions, JobLogger, JobMetrics, JobOutcome } from './types.ts';

export interface JobRunnerOptions {
  redis?: Redis | null;
  /** BullMQ key prefix (default 'facet'). */
  prefix?: string;
  queueName?: string;
  jobs: JobDefinitions;
  logger: JobLogger;
  metrics?: JobMetrics;
  concurrency?: number;
  /** BullMQ only: how often registered schedules are checked to still be in Redis (default 30 s). */
  scheduleCheckMs?: number;
  /** BullMQ only: a worker's lock on a running job (default 30 s); a dead worker's job runs again after about this plus stalledCheckMs. */
  lockMs?: number;
  /** BullMQ only: how often a worker looks for jobs whose worker died (default 30 s). */
  stalledCheckMs?: number;
  /** BullMQ only: how long enqueue() waits for Redis before running the job in this process (default 1 s). */
  enqueueTimeoutMs?: number;
  /** BullMQ only: how long enqueue() then skips Redis before trying it again (default 5 s). */
  breakerOpenMs?: number;
  /** Inline mode only: injectable timers for tests. */
  timers?: Timers;
}

export interface JobRunner {
  mode: 'bullmq' | 'inline';
  enqueue(name: string, data?: Record<string, unknown>, options?: { jobId?: string }): Promise<string>;
  run(name: string, data?: Record<string, unknown>): Promise<JobOutcome>;
  schedule(): Promise<void>;
  startWorker(): Promise<void>;
  queueDepth(): Promise<Array<{ queue: string; value: number }>>;
  close(): Promise<void>;
}

export function createJobRunner({ redis, prefix, queueName, jobs, logger, metrics, concurrency, timers, scheduleCheckMs, lockMs, stalledCheckMs, enqueueTimeoutMs, breakerOpenMs }: JobRunnerOptions): JobRunner {
  for (const [name, definition] of Object.entries(jobs)) {
    if (definition.every !== undefined && !(definition.every >= 1000)) throw new Error(`job ${name}: every must be at least 1000 ms`);
  }
  if (redis) return createBullmqRunner({ redis, prefix, queueName, jobs, logger, metrics, concurrency, scheduleCheckMs, lockMs, stalledCheckMs, enqueueTimeoutMs, breakerOpenMs });
  return createInlineRunner({ jobs, logger, metrics, timers });
}
