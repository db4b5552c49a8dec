// Issue 17, scale-out: each scheduled job runs once per period across all nodes. Three job runners
// (three nodes, each registering the schedules and running a worker) on one Redis, a job every
// second: over ~5.5 s it runs about five times in all, never twice in one period — not three times
// per period.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { createJobRunner, type JobRunner } from '../../src/jobs/index.ts';
import { REDIS_URL, recordingLogger, uniqueName } from './helpers.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
redis.on('error', () => {});
after(() => redis.disconnect());

test('a job scheduled every second by three nodes runs once per second in all', { timeout: 60_000 }, async () => {
  const prefix = uniqueName('scalejobs');
  const runs: Array<{ node: number; at: number }> = [];
  const runners: JobRunner[] = [];
  const connections: Redis[] = [];
  try {
    for (let node = 0; node < 3; node += 1) {
      const connection = redis.duplicate();
      connection.on('error', () => {});
      connections.push(connection);
      const runner = createJobRunner({ redis: connection, prefix, logger: recordingLogger(), jobs: { tick: { every: 1000, handler: () => void runs.push({ node, at: Date.now() }) } } });
      runners.push(runner);
      await runner.schedule();
      await runner.startWorker();
    }
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5500));
    const window = runs.filter((run) => run.at >= started);
    assert.ok(window.length >= 4 && window.length <= 7, `${window.length} runs in 5.5 s: ${JSON.stringify(runs)}`);
    // Three runs per period (one per node) would come within milliseconds of each other.
    const gaps = window.slice(1).map((run, index) => run.at - window[index]!.at);
    assert.ok(gaps.every((gap) => gap > 500), `runs closer than half a period: ${gaps.join(', ')} ms`);
    console.log(`runs per node: ${[0, 1, 2].map((node) => window.filter((run) => run.node === node).length).join(', ')}`);
  } finally {
    await Promise.all(runners.map((runner) => runner.close()));
    for (const connection of connections) connection.disconnect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
});
