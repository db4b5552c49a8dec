// The body of `facet worker`: start the job worker, register the schedules, and on SIGTERM/SIGINT
// stop taking jobs, let the running ones finish, then resolve — so a deploy never kills a job
// halfway (and if one is killed anyway, the idempotency contract covers the retry).
import type { JobRunner } from './job-runner.ts';
import type { JobLogger } from './types.ts';

export interface WorkerProcessOptions {
  runner: JobRunner;
  logger: JobLogger;
  /** Signals that stop the worker; tests pass an EventEmitter of their own. */
  signals?: NodeJS.Signals[];
  process?: Pick<NodeJS.Process, 'once' | 'off'>;
  /** Called after the runner has closed (close database and Redis clients here). */
  onStopped?: () => Promise<void> | void;
}

/** Resolves once the worker has stopped after a signal. */
export async function runWorkerProcess({ runner, logger, signals = ['SIGTERM', 'SIGINT'], process: proc = process, onStopped }: WorkerProcessOptions): Promise<void> {
  await runner.schedule();
  await runner.startWorker();
  logger.info({ mode: runner.mode }, 'worker running');
  const signal = await new Promise<string>((resolve) => {
    const handler = (received: string) => {
      for (const s of signals) proc.off(s, handler);
      resolve(received);
    };
    for (const s of signals) proc.once(s, handler);
  });
  logger.info({ signal }, 'worker stopping; waiting for running jobs');
  await runner.close();
  await onStopped?.();
  logger.info({}, 'worker stopped');
}
