// What a background job is, independent of where it runs (BullMQ worker or in-process timers).
//
// Idempotency contract: a handler may run more than once for the same piece of work — delivery is
// at-least-once (a worker that dies mid-job has the job retried), a failed attempt is retried
// from the start, and without Redis every app node runs every schedule on its own timers. So a
// handler must be safe to repeat and to run concurrently with itself: express work as "bring the
// state to X" (delete rows older than T, rotate if the newest key is older than N days, re-key
// templates still on the old key id), never "do X once more", and commit in batches that each
// leave consistent state so a retry resumes instead of starting over.
export interface JobLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  child?(bindings: object): JobLogger;
}

export interface JobContext {
  /** Job name (the key in `jobs`). */
  name: string;
  /** Queue job id (inline: a process-local id). */
  id: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** Data given to enqueue/run (scheduled runs: {}). */
  data: Record<string, unknown>;
  /** Reports progress (0–100, or any JSON object); logged and stored on the job. */
  progress(value: number | object): Promise<void>;
  /** Logger with job name, id and attempt bound. */
  log: JobLogger;
}

export interface JobDefinition {
  handler(ctx: JobContext): Promise<unknown> | unknown;
  /** Run on a schedule every this many milliseconds. */
  every?: number;
  /** Total attempts including the first (default 3). */
  attempts?: number;
  /** First retry delay in milliseconds; doubles each attempt (default 5000). */
  backoff?: number;
}

export type JobDefinitions = Record<string, JobDefinition>;

export interface JobOutcome {
  id: string;
  name: string;
  status: 'completed' | 'failed';
  attempts: number;
  result?: unknown;
  error?: string;
}

export interface JobMetrics {
  jobRuns: { inc(labels: { job: string; outcome: string }): void };
  jobFailures: { inc(labels: { job: string }): void };
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 5000;

export function childLog(log: JobLogger, bindings: object): JobLogger {
  return log.child ? log.child(bindings) : log;
}
