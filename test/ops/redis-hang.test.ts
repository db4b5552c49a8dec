// A hung Redis (issue 17, item 2): the process stopped with SIGSTOP, its socket still open. Every
// token request waited for the whole hang, because the rate limiter's Redis call had no timeout.
// Now each Redis call of the limiter gives up after 200 ms and a circuit breaker sends the next
// ones to the per-process limiter at once (a background PING decides when to go back): the token
// endpoint's p99 during the hang stays within 2x its p99 before (plus 10 ms of scheduling noise), the degradation is flagged (/ready, metric),
// and the breaker closes again on its own once Redis answers. Uses its own redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { startRedisServer, type RedisServer } from '../support/redis-server.ts';

const SERVICE = `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`;

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

describe('Redis hangs (SIGSTOP) under token load', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let facet: TestFacet;

  before(async () => {
    redis = await startRedisServer();
    // Volume limits out of the way: this measures latency, not limiting.
    facet = await startTestFacet({ database: 'pglite', env: { REDIS_URL: redis.url, FACET_RATE_LIMITS: JSON.stringify({ 'token.ip': { points: 1_000_000 }, 'token.account': { points: 1_000_000 } }) } });
  });
  after(async () => {
    redis?.resume();
    await facet?.close();
    await redis?.stop();
  });

  /** Token requests from 4 clients for `ms`; returns each request's duration. */
  async function load(ms: number): Promise<{ durations: number[]; statuses: Record<number, number> }> {
    const durations: number[] = [];
    const statuses: Record<number, number> = {};
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          const started = performance.now();
          const response = await fetch(`${facet.baseUrl}/t/demo/token`, {
            method: 'POST',
            headers: { authorization: SERVICE },
            body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: 'https://api.demo.example/' }),
            signal: AbortSignal.timeout(15_000),
          });
          await response.arrayBuffer();
          durations.push(performance.now() - started);
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        }
      }),
    );
    return { durations, statuses };
  }

  test('token requests stay fast during the hang; the breaker closes again by itself', async () => {
    await load(1000); // warm-up
    // On a loaded machine a Redis answer can itself take over 200 ms and open the breaker; start
    // from a closed one.
    for (let waited = 0; facet.services.limits.degraded && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(facet.services.limits.degraded, false);
    const baseline = await load(3000);
    assert.deepEqual(Object.keys(baseline.statuses), ['200']);

    redis.pause();
    const during = await load(8000);
    redis.resume();
    assert.deepEqual(Object.keys(during.statuses), ['200'], JSON.stringify(during.statuses));
    const before = p99(baseline.durations);
    const hung = p99(during.durations);
    console.log(
      `token p99 before ${before.toFixed(1)} ms (${baseline.durations.length} requests), during an 8 s hang ${hung.toFixed(1)} ms (${during.durations.length} requests), slowest during ${Math.max(...during.durations).toFixed(0)} ms`,
    );
    assert.ok(during.durations.length > baseline.durations.length, 'the endpoint kept answering through the hang');
    assert.ok(hung <= 2 * before + 10, `p99 during the hang ${hung.toFixed(1)} ms vs ${before.toFixed(1)} ms before`);
    // Nobody waited for the hang (8 s); a loaded machine still has its own pauses.
    assert.ok(Math.max(...during.durations) < 2000, 'no request waited for the hang');

    // Redis answers again: the breaker closes on its own, limits are shared in Redis again.
    const deadline = Date.now() + 10_000;
    while (facet.services.limits.degraded && Date.now() < deadline) {
      await load(200);
    }
    assert.equal(facet.services.limits.degraded, false, 'breaker closed after Redis came back');
    const probe = new Redis(redis.url);
    try {
      await probe.flushall();
      await load(300);
      assert.ok((await probe.keys('*:rl:*')).length > 0, 'counters are in Redis again');
    } finally {
      probe.disconnect();
    }
  });
});
