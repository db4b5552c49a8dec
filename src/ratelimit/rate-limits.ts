// Counts requests per policy with rate-limiter-flexible. With Redis, counters are shared by every
// app node; each Redis limiter carries an in-memory insurance limiter, so when Redis goes away
// Facet keeps limiting per process instead of failing open, logs it once, and raises the
// `degraded` flag (for /ready and the facet_redis_degraded metric) until Redis is back. A Redis
// that hangs instead of failing is cut off by a timeout and a circuit breaker (DEFAULT_REDIS_GUARD).
import { createHash, createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DEFAULT_LIMITS, DEFAULT_REDIS_GUARD, mergeLimits, type Limit, type LimitOverrides, type Limits, type PolicyKey, type RedisGuard } from './policies.ts';

export interface RateLimitLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RateLimitMetrics {
  rateLimitHits: { inc(labels: { policy: string; scope: string }): void };
  redisDegraded: { set(value: number): void };
}

/** The part of a tenant's typed settings (src/tenancy/tenant-file.ts) the limits read: `rate_limits`. */
export interface RateLimitSettings {
  rate_limits?: LimitOverrides;
}

/** The tenant a request belongs to: its slug (keeps counters apart) and settings (for overrides). */
export interface TenantRef {
  slug: string;
  settings?: RateLimitSettings;
}

export interface RateLimitsOptions {
  /** Shared counters across nodes; null/undefined = per-process memory only. */
  redis?: Redis | null;
  /** Installation-wide limits, merged over DEFAULT_LIMITS. */
  limits?: LimitOverrides;
  /**
   * Per-tenant overrides, given the tenant's settings. Default: `settings.rate_limits`, e.g.
   * `{ "signin.ip": { "points": 100 } }` in the tenant file.
   */
  overrides?: (settings: RateLimitSettings) => LimitOverrides | undefined;
  /** Redis key prefix; give tests a unique one. */
  keyPrefix?: string;
  /**
   * Secret for hashing account keys (e.g. FACET_TOKEN_HASH_KEY). With it, Redis keys cannot be
   * matched to usernames by hashing a list of addresses; without it a plain SHA-256 is used.
   */
  accountKeySecret?: string;
  logger: RateLimitLogger;
  metrics?: RateLimitMetrics;
  /** Redis timeout and circuit breaker; defaults in DEFAULT_REDIS_GUARD. */
  redisGuard?: Partial<RedisGuard>;
  /** Injectable clock (tests). */
  now?: () => number;
}

export type ConsumeResult =
  | { allowed: true; remaining: number; limit: Limit }
  | { allowed: false; retryAfterSeconds: number; limit: Limit };

/** One limit of a request: a policy and its bucket key (an IP, a client_id, a username). */
export interface LimitCheck {
  policy: PolicyKey;
  key: string;
}

/** consumeAll's verdict names the policy it is about: the one that refused, or the tightest that allowed. */
export type ConsumeAllResult = ConsumeResult & { policy: PolicyKey };

type MultiOutcome = { allowed: true; remaining: number[] } | { allowed: false; index: number; msBeforeNext: number };

/**
 * KEYS: the counters (rate-limiter-flexible's own keys, so `consume`, `reset` and this share them).
 * ARGV: points to take, then per key its limit, window and block, in seconds. Every counter is read
 * first; if all have room, all are charged ({1, remaining…}); otherwise only the first without room
 * is, exactly as RateLimiterRedis charges it (SET NX EX, INCRBY, and when this charge crossed the
 * limit and a block is set, the counter is held at limit + 1 for the block), and the answer is
 * {0, its index, ms before the next point}.
 */
const CONSUME_ALL_LUA = `
local points = tonumber(ARGV[1])
local function charge(i)
  local duration = tonumber(ARGV[3 * i])
  redis.call('set', KEYS[i], 0, 'EX', duration, 'NX')
  local consumed = redis.call('incrby', KEYS[i], points)
  local ttl = redis.call('pttl', KEYS[i])
  if ttl == -1 then
    redis.call('expire', KEYS[i], duration)
    ttl = 1000 * duration
  end
  return consumed, ttl
end
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 * i - 1])
  local current = tonumber(redis.call('get', KEYS[i]) or '0')
  if current + points > limit then
    local consumed, ttl = charge(i)
    local block = tonumber(ARGV[3 * i + 1])
    if block > 0 and consumed > limit and consumed - points <= limit then
      redis.call('set', KEYS[i], limit + 1, 'EX', block)
      ttl = 1000 * block
    end
    return {0, i - 1, ttl}
  end
end
local answer = {1}
for i = 1, #KEYS do
  local consumed = charge(i)
  answer[i + 1] = math.max(tonumber(ARGV[3 * i - 1]) - consumed, 0)
end
return answer
`;

type MultiRedis = Redis & { facetRateLimitAll(...args: Array<string | number>): Promise<unknown> };

function parseMulti(raw: unknown): MultiOutcome {
  if (!Array.isArray(raw)) throw new Error('unexpected answer from the rate-limit script');
  const numbers = raw.map(Number);
  return numbers[0] === 1 ? { allowed: true, remaining: numbers.slice(1) } : { allowed: false, index: numbers[1]!, msBeforeNext: numbers[2]! };
}

export function createRateLimits({
  redis = null,
  limits,
  overrides = defaultOverrides,
  keyPrefix = 'facet:rl',
  accountKeySecret,
  logger,
  metrics,
  redisGuard,
  now = Date.now,
}: RateLimitsOptions): RateLimits {
  const base = mergeLimits(DEFAULT_LIMITS, limits);
  const guard: RedisGuard = { ...DEFAULT_REDIS_GUARD, ...redisGuard };
  const limiters = new Map<string, { limiter: RateLimiterAbstract; memory?: RateLimiterMemory }>();
  let degraded = false;

  function setDegraded(next: boolean, why: string) {
    if (next === degraded) return;
    degraded = next;
    metrics?.redisDegraded.set(next ? 1 : 0);
    if (next) logger.warn({ component: 'ratelimit', reason: why }, 'Redis unavailable: rate limits are per process until it is back');
    else logger.info({ component: 'ratelimit' }, 'Redis is back: rate limits are shared again');
  }

  // ioredis reports reconnection; the insurance limiter reports use. Between them the flag is
  // accurate without polling. Before the first connection has been made (or refused), requests
  // use the insurance limiter too, but that is start-up, not an outage worth a warning.
  let everReady = redis?.status === 'ready';
  const starting = () => !everReady && (redis?.status === 'connecting' || redis?.status === 'wait');
  const onReady = () => {
    everReady = true;
    if (!breakerOpen()) setDegraded(false, 'ready');
  };
  const onDown = () => setDegraded(true, 'connection closed');
  if (redis) {
    // ioredis sends it by EVALSHA (EVAL once, when Redis does not know the script yet).
    if (typeof (redis as MultiRedis).facetRateLimitAll !== 'function') redis.defineCommand('facetRateLimitAll', { lua: CONSUME_ALL_LUA });
    redis.on('ready', onReady);
    redis.on('end', onDown);
    redis.on('close', onDown);
    if (redis.status !== 'ready' && redis.status !== 'connecting' && redis.status !== 'wait') setDegraded(true, `status ${redis.status}`);
  }

  // The circuit breaker: consecutive Redis timeouts, until when Redis is skipped, and whether the
  // half-open probe is out.
  let failures = 0;
  let openUntil = 0;
  let trialRunning = false;
  const breakerOpen = () => openUntil > 0;

  function redisFailed(why: string) {
    failures += 1;
    if (failures < guard.failuresToOpen) return;
    if (!breakerOpen()) logger.warn({ component: 'ratelimit', reason: why, timeoutMs: guard.timeoutMs, retryInMs: guard.openMs }, 'Redis does not answer: rate limits are per process until it does');
    openUntil = now() + guard.openMs;
    setDegraded(true, why);
  }

  function redisAnswered() {
    failures = 0;
    if (!breakerOpen()) return;
    openUntil = 0;
    logger.info({ component: 'ratelimit' }, 'Redis answers again: circuit breaker closed');
    if (redis?.status === 'ready') setDegraded(false, 'breaker closed');
  }

  /** The half-open trial: a PING in the background, so no request waits on a Redis still hung. */
  function probeRedis() {
    if (trialRunning || !redis) return;
    trialRunning = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, guard.timeoutMs, 'timeout')));
    const ping = redis.ping().then(
      () => 'answered' as const,
      () => 'failed' as const,
    );
    void Promise.race([ping, timeout])
      .then((outcome) => {
        if (outcome === 'answered') redisAnswered();
        else redisFailed(outcome === 'timeout' ? `no answer within ${guard.timeoutMs} ms` : 'ping failed');
      })
      .finally(() => {
        clearTimeout(timer);
        trialRunning = false;
      });
  }

  /**
   * Runs one Redis limiter call under the guard. Resolves `skipped` without touching Redis while
   * the breaker is open (once `openMs` has passed, a background PING decides whether to close it),
   * `timeout` if Redis did not answer in `timeoutMs`.
   */
  async function guarded<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; reason: 'skipped' | 'timeout' }> {
    if (breakerOpen()) {
      if (now() >= openUntil) probeRedis();
      return { ok: false, reason: 'skipped' };
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = Symbol('timeout');
    try {
      const pending = call();
      const outcome = await Promise.race([pending.then((value) => ({ value })), new Promise<typeof timedOut>((resolve) => (timer = setTimeout(resolve, guard.timeoutMs, timedOut)))]);
      if (outcome === timedOut) {
        // The call may still complete later (a hung Redis resumes); its answer is no longer needed.
        pending.catch(() => {});
        redisFailed(`no answer within ${guard.timeoutMs} ms`);
        return { ok: false, reason: 'timeout' };
      }
      redisAnswered();
      return { ok: true, value: outcome.value };
    } catch (error) {
      // An answer, if only a refusal (RateLimiterRes means "over the limit"): Redis is there.
      redisAnswered();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  // The limiter of a (policy, limit object) pair, remembered: the limit objects are the merged ones
  // kept per settings (limitsOf), so a request finds its limiter without building the id string.
  const limiterOf = new WeakMap<Limit, Map<PolicyKey, { limiter: RateLimiterAbstract; memory?: RateLimiterMemory }>>();
  function limiterFor(key: PolicyKey, limit: Limit): { limiter: RateLimiterAbstract; memory?: RateLimiterMemory } {
    let byPolicy = limiterOf.get(limit);
    const known = byPolicy?.get(key);
    if (known) return known;
    const entry = limiterById(key, limit);
    if (!byPolicy) limiterOf.set(limit, (byPolicy = new Map()));
    byPolicy.set(key, entry);
    return entry;
  }

  /** Limiters with the same policy, points, window and block share their counters. */
  function limiterById(key: PolicyKey, limit: Limit): { limiter: RateLimiterAbstract; memory?: RateLimiterMemory } {
    const id = `${key}:${limit.points}/${limit.duration}/${limit.blockDuration ?? 0}`;
    let entry = limiters.get(id);
    if (entry) return entry;
    const common = { points: limit.points, duration: limit.duration, blockDuration: limit.blockDuration ?? 0, keyPrefix: `${keyPrefix}:${id}` };
    if (!redis) {
      entry = { limiter: new RateLimiterMemory(common) };
    } else {
      const insurance = new RateLimiterMemory(common);
      for (const method of ['consume', 'get', 'delete', 'block', 'penalty', 'reward', 'set'] as const) {
        const original = (insurance as any)[method].bind(insurance);
        (insurance as any)[method] = (...args: unknown[]) => {
          if (!starting()) setDegraded(true, 'redis command failed');
          return original(...args);
        };
      }
      entry = {
        limiter: new RateLimiterRedis({
          ...common,
          storeClient: redis,
          // Without this, ioredis queues commands while reconnecting and requests hang.
          rejectIfRedisNotReady: true,
          insuranceLimiter: insurance,
        }),
        // The same counters, used directly when Redis is cut off by the timeout or the breaker.
        memory: insurance,
      };
    }
    limiters.set(id, entry);
    return entry;
  }

  // A tenant's limits, per settings object (a changed tenant is rebuilt with new settings).
  const tenantLimits = new WeakMap<object, Limits>();
  function limitsOf(tenant: TenantRef | undefined): Limits {
    const settings = tenant?.settings;
    if (!settings) return base;
    let merged = tenantLimits.get(settings);
    if (!merged) tenantLimits.set(settings, (merged = mergeLimits(base, safeOverrides(overrides, settings))));
    return merged;
  }

  function resolve(policy: PolicyKey, tenant: TenantRef | undefined): Limit {
    return limitsOf(tenant)[policy];
  }

  // Hashed account keys, remembered: a busy client_id (token.account) would otherwise cost an
  // HMAC (~15 µs measured) on every token request. Bounded; emptied when full.
  const hashedAccounts = new Map<string, string>();
  function hashedAccount(key: string): string {
    let subject = hashedAccounts.get(key);
    if (subject !== undefined) return subject;
    const hash = accountKeySecret ? createHmac('sha256', accountKeySecret) : createHash('sha256');
    subject = hash.update(key.trim().toLowerCase()).digest('base64url').slice(0, 22);
    if (hashedAccounts.size >= 10_000) hashedAccounts.clear();
    hashedAccounts.set(key, subject);
    return subject;
  }

  function storageKey(policy: PolicyKey, key: string, tenant: TenantRef | undefined): string {
    // Account keys are usernames or e-mail addresses: hash them so Redis holds no personal data.
    const subject = policy.endsWith('.account') ? hashedAccount(key) : key;
    return `${tenant?.slug ?? '-'}:${subject}`;
  }

  /** Takes one point; `allowed: false` means answer 429 with Retry-After. */
  async function consume(policy: PolicyKey, key: string, { tenant, points = 1 }: { tenant?: TenantRef; points?: number } = {}): Promise<ConsumeResult> {
    const limit = resolve(policy, tenant);
    const { limiter, memory } = limiterFor(policy, limit);
    const bucket = storageKey(policy, key, tenant);
    try {
      let res: RateLimiterRes;
      if (!memory) res = await limiter.consume(bucket, points);
      else {
        const outcome = await guarded(() => limiter.consume(bucket, points));
        res = outcome.ok ? outcome.value : await memory.consume(bucket, points);
      }
      return { allowed: true, remaining: res.remainingPoints, limit };
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const [name, scope] = policy.split('.');
        metrics?.rateLimitHits.inc({ policy: name, scope });
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)), limit };
      }
      // Neither Redis nor the insurance limiter answered. Letting the request through is the
      // lesser harm (lockout still guards credentials), but never silently.
      setDegraded(true, 'limiter error');
      logger.error({ component: 'ratelimit', policy, err: error }, 'rate limiter failed; request allowed');
      return { allowed: true, remaining: 0, limit };
    }
  }

  /**
   * Takes one point from every limit in `checks` at once: all of them or none. The limits are
   * judged in order; the first that refuses is charged (as `consume` would: the attempt counts and
   * a `blockDuration` starts when it is crossed) and no other is, so an address refused by its own
   * limit cannot drain a client's. With Redis this is one round trip (a Lua script, EVALSHA), under
   * the same timeout and circuit breaker as `consume`, on the same keys; without Redis, or when it
   * fails, the per-process counters do the same (charged in order, refunded on a refusal).
   */
  async function consumeAll(checks: readonly LimitCheck[], { tenant, points = 1 }: { tenant?: TenantRef; points?: number } = {}): Promise<ConsumeAllResult> {
    if (checks.length === 1) return { ...(await consume(checks[0]!.policy, checks[0]!.key, { tenant, points })), policy: checks[0]!.policy };
    const limitsNow = limitsOf(tenant);
    const items = checks.map(({ policy, key }) => {
      const limit = limitsNow[policy];
      return { policy, limit, bucket: storageKey(policy, key, tenant), ...limiterFor(policy, limit) };
    });
    try {
      let outcome: MultiOutcome | undefined;
      if (redis && items[0]?.memory && redis.status === 'ready') {
        const keys = items.map((item) => item.limiter.getKey(item.bucket));
        const args = items.flatMap(({ limit }) => [limit.points, limit.duration, limit.blockDuration ?? 0]);
        // A Redis error is an answer (Redis is there, the breaker stays closed) that sends this
        // request to the per-process counters, as RateLimiterRedis's insurance limiter does.
        const answer = await guarded(() =>
          (redis as MultiRedis)
            .facetRateLimitAll(keys.length, ...keys, points, ...args)
            .then(parseMulti)
            .catch((error: unknown) => ({ error })),
        );
        if (answer.ok && !('error' in answer.value)) outcome = answer.value;
      }
      outcome ??= await consumeAllInMemory(items, points);
      if (outcome.allowed) {
        let tightest = 0;
        for (let i = 1; i < items.length; i++) if (outcome.remaining[i]! < outcome.remaining[tightest]!) tightest = i;
        return { allowed: true, remaining: outcome.remaining[tightest]!, limit: items[tightest]!.limit, policy: items[tightest]!.policy };
      }
      const refused = items[outcome.index]!;
      const [name, scope] = refused.policy.split('.');
      metrics?.rateLimitHits.inc({ policy: name!, scope: scope! });
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(outcome.msBeforeNext / 1000)), limit: refused.limit, policy: refused.policy };
    } catch (error) {
      setDegraded(true, 'limiter error');
      logger.error({ component: 'ratelimit', policies: checks.map((check) => check.policy), err: error }, 'rate limiter failed; request allowed');
      return { allowed: true, remaining: 0, limit: items[0]!.limit, policy: items[0]!.policy };
    }
  }

  /** consumeAll on the per-process counters: charged in order; on a refusal the earlier ones get their points back. */
  async function consumeAllInMemory(items: Array<{ bucket: string; limiter: RateLimiterAbstract; memory?: RateLimiterMemory }>, points: number): Promise<MultiOutcome> {
    const remaining: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const counter = items[i]!.memory ?? items[i]!.limiter;
      try {
        remaining.push((await counter.consume(items[i]!.bucket, points)).remainingPoints);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        for (let j = 0; j < i; j++) await (items[j]!.memory ?? items[j]!.limiter).reward(items[j]!.bucket, points);
        return { allowed: false, index: i, msBeforeNext: error.msBeforeNext };
      }
    }
    return { allowed: true, remaining };
  }

  /** Forgets the count for one key (e.g. after a successful sign-in, or an admin's reset). */
  async function reset(policy: PolicyKey, key: string, { tenant }: { tenant?: TenantRef } = {}): Promise<void> {
    const limit = resolve(policy, tenant);
    const { limiter, memory } = limiterFor(policy, limit);
    const bucket = storageKey(policy, key, tenant);
    try {
      if (!memory) await limiter.delete(bucket);
      else {
        const outcome = await guarded(() => limiter.delete(bucket));
        if (!outcome.ok) await memory.delete(bucket);
      }
    } catch (error) {
      logger.warn({ component: 'ratelimit', policy, err: error }, 'rate limit reset failed');
    }
  }

  const api: RateLimits = {
    consume,
    consumeAll,
    reset,
    /** The limits in force for a tenant (or installation-wide), for the admin console. */
    limitsFor: (tenant?: TenantRef): Limits => (tenant?.settings ? mergeLimits(base, safeOverrides(overrides, tenant.settings)) : base),
    get degraded() {
      return degraded;
    },
    /** For /ready: stays ok (the node still serves, on per-process limits) but says so. */
    readinessCheck: async () => ({ name: 'ratelimit', ok: true, ...(degraded ? { detail: 'degraded: Redis unavailable, per-process limits' } : {}) }),
    /** Detaches from the Redis client (which the caller owns and closes). */
    close() {
      redis?.off('ready', onReady);
      redis?.off('end', onDown);
      redis?.off('close', onDown);
    },
  };
  return api;
}

export interface RateLimits {
  consume(policy: PolicyKey, key: string, options?: { tenant?: TenantRef; points?: number }): Promise<ConsumeResult>;
  /** Several limits for one request, taken together or not at all (one Redis round trip). */
  consumeAll(checks: readonly LimitCheck[], options?: { tenant?: TenantRef; points?: number }): Promise<ConsumeAllResult>;
  reset(policy: PolicyKey, key: string, options?: { tenant?: TenantRef }): Promise<void>;
  limitsFor(tenant?: TenantRef): Limits;
  readonly degraded: boolean;
  readinessCheck(): Promise<{ name: string; ok: boolean; detail?: string }>;
  close(): void;
}

function defaultOverrides(settings: RateLimitSettings): LimitOverrides | undefined {
  // A stored row that no longer parses is served as stored (src/tenancy/registry.ts): only an object counts.
  const value = settings.rate_limits;
  return value && typeof value === 'object' ? value : undefined;
}

function safeOverrides(fn: (settings: RateLimitSettings) => LimitOverrides | undefined, settings: RateLimitSettings): LimitOverrides | undefined {
  try {
    return fn(settings);
  } catch {
    return undefined;
  }
}
