// The process-wide services beside the HTTP app: Redis (optional), rate limits, metrics and the
// job runner. Without REDIS_URL everything falls back to in-process equivalents.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { createRateLimits, type RateLimits } from './ratelimit/index.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { createJobRunner, type JobRunner } from './jobs/index.ts';
import { facetJobs } from './jobs/definitions.ts';
import { liveUsers } from './accounts/users.ts';
import { countLockedUsers } from './lockout/index.ts';
import { withTenant } from './db/tenant-scope.ts';
import { listTenants } from './tenancy/registry.ts';
import type { ExtraCheck } from './http/health.ts';
import { createFaceRuntime, type FaceRuntime } from './factors/face/runtime.ts';
import { createPurposeRings, FACTOR_KEYS_FALLBACK_WARNING, type PurposeRings } from './crypto/purpose-rings.ts';
import { KeyRingError } from './crypto/key-ring.ts';
import { assertSealedDataReadable } from './keys/sealed-data.ts';
import { assertKekSealedReadable } from './keys/kek-rekey.ts';
import type { RootDb } from './db/client.ts';

export interface Services {
  redis: Redis | null;
  limits: RateLimits;
  metrics: Metrics;
  jobs: JobRunner;
  face: FaceRuntime;
  /** One key ring per purpose: face templates, factor secrets (TOTP seeds, NFC card keys). */
  keys: PurposeRings;
  readinessChecks: ExtraCheck[];
  close(): Promise<void>;
}

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, retryStrategy: (times) => Math.min(times * 200, 2000) });
  let reported = false;
  redis.on('error', (error) => {
    if (!reported) logger.warn({ err: error.message }, 'redis unavailable; falling back to per-process limits');
    reported = true;
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis;
}

/** `installation` keeps Redis keys of two Facet installations sharing one Redis apart. */
export async function createServices({ config, db, logger, installation }: { config: Config; db: RootDb; logger: Logger; installation: string }): Promise<Services> {
  const keys = createPurposeRings(config);
  if (keys.factorFallback) logger.warn({ variable: 'FACET_FACTOR_KEYS' }, FACTOR_KEYS_FALLBACK_WARNING);
  // Refuses to start when a ring cannot open what is stored, rather than failing every check later.
  await assertSealedDataReadable(db, keys, await listTenants(db));
  // The same for FACET_KEK (token and audit-signing keys, client secrets): in production a ring that
  // lost the key of a stored value stops the start; elsewhere it is logged (a development database
  // may hold tenants sealed under another KEK).
  try {
    await assertKekSealedReadable(db, config.kek, await listTenants(db));
  } catch (error) {
    if (config.production || !(error instanceof KeyRingError)) throw error;
    logger.error({ code: error.code, detail: error.message }, 'FACET_KEK cannot open a stored sealed value');
  }
  const face = await createFaceRuntime({ modelsDir: config.modelsDir, ring: keys.faceTemplates, logger, ...(config.faceWorkers ? { workers: config.faceWorkers } : {}) });
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : null;
  const metrics = createMetrics({
    processMetrics: config.env !== 'test',
    activeUsers: async () => {
      const samples = [];
      for (const tenant of await listTenants(db)) {
        const row = await withTenant(db, tenant, (trx) => liveUsers(trx).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst());
        samples.push({ tenant: tenant.slug, value: Number(row?.n ?? 0) });
      }
      return samples;
    },
    lockedAccounts: async () => {
      const samples = [];
      for (const tenant of await listTenants(db)) samples.push({ tenant: tenant.slug, value: await withTenant(db, tenant, (trx) => countLockedUsers(trx)) });
      return samples;
    },
  });
  const limits = createRateLimits({
    redis,
    limits: config.rateLimits,
    keyPrefix: `facet:${installation}:rl`,
    accountKeySecret: config.tokenHashKey,
    logger,
    metrics,
  });
  const jobs = createJobRunner({ redis, prefix: `facet:${installation}`, jobs: facetJobs({ db, audit: { kek: config.kek, publicUrl: config.publicUrl, settings: config.audit } }), logger, metrics, lockMs: config.jobLockMs, stalledCheckMs: config.jobLockMs });
  metrics.collectors.queueDepth = () => jobs.queueDepth();
  return {
    redis,
    limits,
    metrics,
    jobs,
    face,
    keys,
    readinessChecks: [
      async () => {
        const status = face.status();
        // The face factor is optional: unavailable models degrade it, they do not make Facet unready.
        return { name: 'models', ok: true, detail: status.available ? `face models verified (${status.model})` : `face factor disabled: ${status.reason}` };
      },
      () => limits.readinessCheck(),
      async () => {
        if (!redis) return { name: 'redis', ok: true, detail: 'not configured: in-memory limits, inline jobs' };
        return { name: 'redis', ok: true, ...(redis.status === 'ready' ? {} : { detail: `degraded: ${redis.status}` }) };
      },
    ],
    async close() {
      await face.close();
      // A queue waiting for an unreachable Redis must not hold shutdown past its deadline.
      await Promise.race([jobs.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      limits.close();
      redis?.disconnect();
    },
  };
}
