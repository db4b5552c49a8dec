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

describe('several limits of one request at once (consumeAll)', () => {
  const tenant = { slug: 'demo', settings: {} };
  const both = (ip: string, client: string) => [
    { policy: 'token.ip' as const, key: ip },
    { policy: 'token.account' as const, key: client },
  ];

  it('on Redis: an address its own limit refuses does not drain the client limit; one command per call', async () => {
    const redis = redisClient();
    await redis.ping();
    // Every command this client sends, counted (the limiter has the client to itself).
    let commands = 0;
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((...args: Parameters<typeof send>) => {
      commands += 1;
      return send(...args);
    }) as typeof redis.sendCommand;
    const keyPrefix = uniqueName('rltest');
    const metrics = createMetrics();
    const limits = createRateLimits({ redis, keyPrefix, logger: recordingLogger(), metrics, limits: { 'token.ip': { points: 3, duration: 60 }, 'token.account': { points: 5, duration: 60 } } });

    // The attacker's address: 3 requests in, then refused by token.ip, 20 times.
    for (let i = 0; i < 3; i++) assert.equal((await limits.consumeAll(both('203.0.113.66', 'demo-service'), { tenant })).allowed, true);
    commands = 0;
    for (let i = 0; i < 20; i++) {
      const refused = await limits.consumeAll(both('203.0.113.66', 'demo-service'), { tenant });
      assert.equal(refused.allowed, false);
      assert.equal(refused.policy, 'token.ip');
      assert.ok(!refused.allowed && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
    }
    assert.equal(commands, 20, 'one Redis command (EVALSHA) per request, whatever the number of limits');
    // The client's bucket took only the 3 allowed requests: 2 left for its real address.
    const counters = await redis.keys(`${keyPrefix}:token.account:*`);
    assert.equal(counters.length, 1);
    assert.equal(await redis.get(counters[0]!), '3');
    commands = 0;
    const allowed = await limits.consumeAll(both('198.51.100.10', 'demo-service'), { tenant });
    assert.ok(allowed.allowed && allowed.remaining === 1 && allowed.policy === 'token.account', JSON.stringify(allowed));
    assert.equal((await limits.consumeAll(both('198.51.100.10', 'demo-service'), { tenant })).allowed, true);
    assert.equal(commands, 2, 'both limits charged in one command per request');
    // Now the client limit refuses, and the refused request leaves the second address's own count alone.
    const byClient = await limits.consumeAll(both('198.51.100.10', 'demo-service'), { tenant });
    assert.ok(!byClient.allowed && byClient.policy === 'token.account');
    const ipCounters = await redis.keys(`${keyPrefix}:token.ip:*198.51.100.10`);
    assert.equal(await redis.get(ipCounters[0]!), '2');
    assert.match(await metrics.registry.metrics(), /facet_ratelimit_hits_total\{policy="token",scope="ip"\} 20/);
    assert.match(await metrics.registry.metrics(), /facet_ratelimit_hits_total\{policy="token",scope="account"\} 1/);
    // Same counters as consume and reset.
    assert.equal((await limits.consume('token.account', 'demo-service', { tenant })).allowed, false);
    await limits.reset('token.account', 'demo-service', { tenant });
    assert.equal((await limits.consumeAll(both('198.51.100.10', 'demo-service'), { tenant })).allowed, true);
    limits.close();
    await cleanup(redis, keyPrefix);
  });

  it('on Redis, concurrently: exactly the limit is let through and the refused never charge the other bucket', async () => {
    const redis = redisClient();
    await redis.ping();
    const keyPrefix = uniqueName('rltest');
    const limits = createRateLimits({ redis, keyPrefix, logger: recordingLogger(), limits: { 'token.ip': { points: 4, duration: 60 }, 'token.account': { points: 10, duration: 60 } } });
    // 60 at once from one address: 4 pass its limit, the client's counter moves by exactly 4.
    const burst = await Promise.all(Array.from({ length: 60 }, () => limits.consumeAll(both('203.0.113.9', 'demo-web'), { tenant })));
    assert.equal(burst.filter((v) => v.allowed).length, 4);
    assert.equal(await redis.get((await redis.keys(`${keyPrefix}:token.account:*`))[0]!), '4');
    // 60 at once from 60 addresses: 6 left in the client's bucket.
    const spread = await Promise.all(Array.from({ length: 60 }, (_, i) => limits.consumeAll(both(`192.0.2.${i + 1}`, 'demo-web'), { tenant })));
    assert.equal(spread.filter((v) => v.allowed).length, 6);
    assert.ok(spread.filter((v) => !v.allowed).every((v) => v.policy === 'token.account'));
    limits.close();
    await cleanup(redis, keyPrefix);
  });

  it('on Redis: a limit with a block duration is held for the block once crossed', async () => {
    const redis = redisClient();
    await redis.ping();
    const keyPrefix = uniqueName('rltest');
    const limits = createRateLimits({ redis, keyPrefix, logger: recordingLogger(), limits: { 'stepup.ip': { points: 100, duration: 60 }, 'stepup.account': { points: 2, duration: 60, blockDuration: 300 } } });
    const checks = [
      { policy: 'stepup.ip' as const, key: '192.0.2.200' },
      { policy: 'stepup.account' as const, key: 'user-1' },
    ];
    for (let i = 0; i < 2; i++) assert.equal((await limits.consumeAll(checks)).allowed, true);
    const blocked = await limits.consumeAll(checks);
    assert.ok(!blocked.allowed && blocked.retryAfterSeconds > 60 && blocked.retryAfterSeconds <= 300, JSON.stringify(blocked));
    const again = await limits.consumeAll(checks);
    assert.ok(!again.allowed && again.retryAfterSeconds > 60, 'still blocked');
    limits.close();
    await cleanup(redis, keyPrefix);
  });

  it('without Redis, and with Redis unreachable, the per-process counters keep the same rule', async () => {
    const unreachable = redisClient('redis://127.0.0.1:1');
    await new Promise((resolve) => unreachable.once('close', resolve));
    for (const redis of [null, unreachable]) {
      const limits = createRateLimits({ redis, keyPrefix: uniqueName('rltest'), logger: recordingLogger(), limits: { 'token.ip': { points: 2, duration: 60 }, 'token.account': { points: 3, duration: 60 } } });
      for (let i = 0; i < 2; i++) assert.equal((await limits.consumeAll(both('203.0.113.1', 'c1'))).allowed, true);
      for (let i = 0; i < 10; i++) assert.equal((await limits.consumeAll(both('203.0.113.1', 'c1'))).allowed, false);
      // The refused address left one point of the client's three.
      assert.equal((await limits.consumeAll(both('203.0.113.2', 'c1'))).allowed, true);
      const refused = await limits.consumeAll(both('203.0.113.2', 'c1'));
      assert.ok(!refused.allowed && refused.policy === 'token.account');
      // ...and that refusal gave the second address its point back: one more from it for another client.
      assert.equal((await limits.consumeAll(both('203.0.113.2', 'c2'))).allowed, true);
      assert.equal((await limits.consumeAll(both('203.0.113.2', 'c2'))).allowed, false);
      assert.equal(limits.degraded, redis !== null);
      limits.close();
    }
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
