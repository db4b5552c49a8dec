// Public surface of the jobs module.
export { createJobRunner, type JobRunner, type JobRunnerOptions } from './job-runner.ts';
export type { JobContext, JobDefinition, JobDefinitions, JobOutcome } from './types.ts';
export { runWorkerProcess, type WorkerProcessOptions } from './worker-process.ts';
