import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { clientIp, createRateLimits, parseTrustProxy } from '../../src/ratelimit/index.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { REDIS_URL, recordingLogger, uniqueName } from './helpers.ts';

const clients: Redis[] = [];
function redisClient(url = REDIS_URL) {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 200, lazyConnect: false });
  client.on('error', () => {});
  clients.push(client);
  return client;
}
after(async () => {
  for (const c of clients) c.disconnect();
});

async function cleanup(redis: Redis, prefix: string) {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
}

describe('rate limits on Redis', () => {
  it('trips after the limit, answers with a retry time, and resets', async () => {
    const redis = redisClient();
    await redis.ping();
    const keyPrefix = uniqueName('rltest');
    const metrics = createMetrics();
    const limits = createRateLimits({ redis, keyPrefix, accountKeySecret: 'k'.repeat(32), logger: recordingLogger(), metrics, limits: { 'signin.account': { points: 3, duration: 60, blockDuration: 0 } } });
    for (let i = 0; i < 3; i++) assert.equal((await limits.consume('signin.account', 'alice@example.com')).allowed, true);
    const refused = await limits.consume('signin.account', 'Alice@Example.com ');
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
    // Another account is unaffected.
    assert.equal((await limits.consume('signin.account', 'bob@example.com')).allowed, true);
    // The username is hashed in Redis.
    const keys = await redis.keys(`${keyPrefix}:*`);
    assert.ok(keys.length > 0 && keys.every((k) => !k.includes('alice')));
    await limits.reset('signin.account', 'alice@example.com');
    assert.equal((await limits.consume('signin.account', 'alice@example.com')).allowed, true);
    assert.match(await metrics.registry.metrics(), /facet_ratelimit_hits_total\{policy="signin",scope="account"\} 1/);
    assert.equal(limits.degraded, false);
    limits.close();
    await cleanup(redis, keyPrefix);
  });

  it('applies per-tenant overrides from tenant settings, with counters kept apart per tenant', async () => {
    const redis = redisClient();
    const keyPrefix = uniqueName('rltest');
    const limits = createRateLimits({ redis, keyPrefix, logger: recordingLogger(), limits: { 'token.ip': { points: 5, duration: 60 } } });
    const strict = { slug: 'strict', settings: { rate_limits: { 'token.ip': { points: 1 } } } };
    const loose = { slug: 'loose', settings: {} };
    assert.equal(limits.limitsFor(strict)['token.ip'].points, 1);
    assert.equal(limits.limitsFor(loose)['token.ip'].points, 5);
    assert.equal((await limits.consume('token.ip', '203.0.113.7', { tenant: strict })).allowed, true);
    assert.equal((await limits.consume('token.ip', '203.0.113.7', { tenant: strict })).allowed, false);
    for (let i = 0; i < 5; i++) assert.equal((await limits.consume('token.ip', '203.0.113.7', { tenant: loose })).allowed, true);
    assert.equal((await limits.consume('token.ip', '203.0.113.7', { tenant: loose })).allowed, false);
    limits.close();
    await cleanup(redis, keyPrefix);
  });

  it('keeps limiting on the insurance limiter when Redis is unreachable, and reports degraded', async () => {
    const redis = redisClient('redis://127.0.0.1:1');
    const logger = recordingLogger();
    const metrics = createMetrics();
    const limits = createRateLimits({ redis, keyPrefix: uniqueName('rltest'), logger, metrics, limits: { 'stepup.ip': { points: 2, duration: 60 } } });
    // The connection has been refused: an outage, not start-up.
    await new Promise((resolve) => redis.once('close', resolve));
    assert.equal((await limits.consume('stepup.ip', '198.51.100.1')).allowed, true);
    assert.equal((await limits.consume('stepup.ip', '198.51.100.1')).allowed, true);
    assert.equal((await limits.consume('stepup.ip', '198.51.100.1')).allowed, false, 'still limits: never fails open');
    assert.equal(limits.degraded, true);
    assert.deepEqual(await limits.readinessCheck(), { name: 'ratelimit', ok: true, detail: 'degraded: Redis unavailable, per-process limits' });
    assert.match(await metrics.registry.metrics(), /facet_redis_degraded 1/);
    assert.equal(logger.entries.filter((e) => e.level === 'warn').length, 1, 'said once');
    limits.close();
  });

  it('falls back when Redis disconnects mid-flight and recovers when it is back', async () => {
    const redis = redisClient();
    await redis.ping();
    const keyPrefix = uniqueName('rltest');
    const logger = recordingLogger();
    const limits = createRateLimits({ redis, keyPrefix, logger, limits: { 'admin.ip': { points: 100, duration: 60 } } });
    assert.equal((await limits.consume('admin.ip', '192.0.2.1')).allowed, true);
    assert.equal(limits.degraded, false);
    redis.disconnect();
    const result = await limits.consume('admin.ip', '192.0.2.1');
    assert.equal(result.allowed, true);
    assert.equal(limits.degraded, true);
    await redis.connect();
    assert.equal(limits.degraded, false);
    assert.ok(logger.entries.some((e) => e.level === 'info' && /back/.test(e.msg)));
    limits.close();
    await cleanup(redis, keyPrefix);
  });
});

describe('rate limits at start-up', () => {
  it('does not report an outage while the first connection is still being made', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    clients.push(redis);
    const logger = recordingLogger();
    const keyPrefix = uniqueName('rltest');
    const limits = createRateLimits({ redis, keyPrefix, logger });
    const connecting = redis.connect();
    assert.equal((await limits.consume('admin.ip', '192.0.2.77')).allowed, true, 'served by the insurance limiter meanwhile');
    await connecting;
    assert.equal((await limits.consume('admin.ip', '192.0.2.77')).allowed, true);
    assert.equal(limits.degraded, false);
    assert.equal(logger.entries.filter((e) => e.level === 'warn').length, 0);
    limits.close();
    await cleanup(redis, keyPrefix);
  });
});

describe('rate limits in memory', () => {
  it('works without Redis', async () => {
    const limits = createRateLimits({ logger: recordingLogger(), limits: { 'signup.ip': { points: 1, duration: 60 } } });
    assert.equal((await limits.consume('signup.ip', '192.0.2.9')).allowed, true);
    assert.equal((await limits.consume('signup.ip', '192.0.2.9')).allowed, false);
    assert.equal(limits.degraded, false);
  });
});

describe('clientIp', () => {
  const ctx = (peer: string, xff?: string) => ({
    req: { socket: { remoteAddress: peer } },
    get: (name: string) => (name.toLowerCase() === 'x-forwarded-for' ? (xff ?? '') : ''),
  }) as any;

  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    assert.equal(clientIp(ctx('::ffff:10.0.0.5', '1.2.3.4')), '10.0.0.5');
    assert.equal(clientIp(ctx('10.0.0.5', '1.2.3.4'), { trustProxy: 0 }), '10.0.0.5');
  });
  it('takes the address the trusted hops vouch for', () => {
    assert.equal(clientIp(ctx('10.0.0.5', '6.6.6.6, 1.2.3.4'), { trustProxy: 1 }), '1.2.3.4');
    assert.equal(clientIp(ctx('10.0.0.5', '6.6.6.6, 1.2.3.4, 10.0.0.4'), { trustProxy: 2 }), '1.2.3.4');
    assert.equal(clientIp(ctx('10.0.0.5', '1.2.3.4'), { trustProxy: 5 }), '1.2.3.4');
    assert.equal(clientIp(ctx('10.0.0.5', '6.6.6.6, 1.2.3.4'), { trustProxy: true }), '6.6.6.6');
    assert.equal(clientIp(ctx('10.0.0.5', 'garbage'), { trustProxy: 1 }), '10.0.0.5');
  });
  it('parses TRUST_PROXY', () => {
    assert.equal(parseTrustProxy(undefined), false);
    assert.equal(parseTrustProxy('true'), true);
    assert.equal(parseTrustProxy('2'), 2);
    assert.throws(() => parseTrustProxy('yes'), /TRUST_PROXY/);
  });
});
