// Job schedules after Redis loses its data (issue 17, item 3): a Redis restart without its data
// deleted all four BullMQ job schedules and nothing registered them again until Facet restarted.
// Now a node that registered them does again when its connection is ready again (restart), and
// notices within its check interval when they are gone without a reconnect (FLUSHALL). Uses its
// own redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { startRedisServer, type RedisServer } from '../support/redis-server.ts';
import { createJobRunner } from '../../src/jobs/index.ts';
import { recordingLogger } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      if (await check()) return Date.now() - started;
    } catch {
      // Redis still coming back
    }
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('job schedules come back after Redis loses its data', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let probe: Redis;
  before(async () => {
    redis = await startRedisServer();
    probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    probe.on('error', () => {});
  });
  after(async () => {
    probe?.disconnect();
    await redis?.stop();
  });

  const schedulers = async (prefix: string) => (await probe.zrange(`${prefix}:facet-jobs:repeat`, '0', '-1')).sort();

  test('the server re-registers every schedule after a Redis restart that lost them', async () => {
    const facet: TestFacet = await startTestFacet({ database: 'pglite', env: { REDIS_URL: redis.url } });
    try {
      const prefix = `facet:${(await facet.database.db.selectFrom('facet_control.installation').select('role_prefix').executeTakeFirstOrThrow()).role_prefix}`;
      // Every scheduled job of src/jobs/definitions.ts (registered in the background at start).
      let expected: string[] = [];
      await waitFor(async () => {
        const now = await schedulers(prefix);
        const stable = now.length > 0 && now.join() === expected.join();
        expected = now;
        return stable;
      }, 10_000);
      assert.ok(expected.includes('purge-oidc-records') && expected.includes('verify-audit-chains'), expected.join());

      // A marker shows the restart lost Redis's data (the server may have put its schedules back
      // before this test can look, so the schedules themselves cannot show it).
      await probe.set(`${prefix}:restart-marker`, '1');
      await redis.restart();
      await waitFor(async () => (await probe.ping()) === 'PONG', 10_000);
      assert.equal(await probe.get(`${prefix}:restart-marker`), null, 'the restart lost the data');
      // Every schedule seen before the restart is back (under load the background registration may
      // still have been adding the last ones when `expected` was read; those come back too).
      const backMs = await waitFor(async () => {
        const now = await schedulers(prefix);
        return expected.every((name) => now.includes(name));
      }, 20_000);
      const back = await schedulers(prefix);
      for (const name of expected) assert.ok(back.includes(name), `${name} is back (${back.join()})`);
      console.log(`schedules back ${backMs} ms after the restarted Redis accepted connections`);
    } finally {
      await facet.close();
    }
  });

  test('a worker notices schedules flushed away without a reconnect, and registering twice adds none', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const prefix = 'jobschedtest';
    const runner = createJobRunner({
      redis: client,
      prefix,
      logger: recordingLogger(),
      scheduleCheckMs: 300,
      jobs: { tick: { every: 60_000, handler: async () => ({}) }, tock: { every: 120_000, handler: async () => ({}) }, once: { handler: async () => ({}) } },
    });
    try {
      await runner.schedule();
      await runner.schedule();
      assert.deepEqual(await schedulers(prefix), ['tick', 'tock']);
      await probe.flushall();
      const backMs = await waitFor(async () => (await schedulers(prefix)).length === 2, 5_000);
      assert.deepEqual(await schedulers(prefix), ['tick', 'tock']);
      console.log(`schedules back ${backMs} ms after FLUSHALL (check every 300 ms)`);
    } finally {
      await runner.close();
      client.disconnect();
    }
  });

  test('a hung Redis: enqueue gives up after 1 s and runs the job in this process; the breaker skips Redis until it answers again', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const ran: string[] = [];
    const logger = recordingLogger();
    const runner = createJobRunner({ redis: client, prefix: 'jobhangtest', logger, breakerOpenMs: 1500, jobs: { work: { handler: async ({ data }) => void ran.push(String(data.n)) } } });
    try {
      // No worker here: a job that reached Redis stays there; one run here shows up in `ran`.
      assert.equal(await runner.enqueue('work', { n: 'before' }, { jobId: 'before' }), 'before');
      redis.pause();
      let started = Date.now();
      assert.match(await runner.enqueue('work', { n: 'during-1' }, { jobId: 'during-1' }), /^inline:/);
      const first = Date.now() - started;
      assert.ok(first >= 900 && first < 1800, `first call gave up after ${first} ms`);
      started = Date.now();
      assert.match(await runner.enqueue('work', { n: 'during-2' }, { jobId: 'during-2' }), /^inline:/);
      const second = Date.now() - started;
      assert.ok(second < 100, `with the breaker open the next call took ${second} ms`);
      await waitFor(async () => ran.includes('during-1') && ran.includes('during-2'), 5000);
      assert.ok(logger.entries.some((e) => e.level === 'warn' && e.msg.includes('running jobs in this process')));
      redis.resume();
      await sleep(1600);
      assert.equal(await runner.enqueue('work', { n: 'after' }, { jobId: 'after' }), 'after', 'back on the queue once Redis answers');
      assert.deepEqual(ran.sort(), ['during-1', 'during-2']);
      console.log(`hung Redis: first enqueue ran here after ${first} ms, the next after ${second} ms`);
    } finally {
      redis.resume();
      await runner.close();
      client.disconnect();
    }
  });
});
