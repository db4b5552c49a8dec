// Configuration: one zod schema over the environment, with the defaults documented beside each
// field. Development gets working defaults; production fails at boot on anything missing or on a
// known development value, and on secrets too weak to be random 32-byte keys (secret-strength.ts),
// so a forgotten or placeholder secret can never reach a real deployment.
import { z } from 'zod';
import { FacetError } from '../errors/facet-error.ts';
import { DEV_SECRETS, isDevSecret } from './dev-secrets.ts';
import { productionSecretProblems } from './secret-strength.ts';
import { auditSettings } from '../audit/settings.ts';

const csv = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

/** Digits only: z.coerce.number would read an empty or blank value as 0 (here: "never"). */
const wholeNumber = z
  .string()
  .regex(/^[0-9]+$/, 'a whole number of 0 or more')
  .transform(Number);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Port the HTTP server listens on. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface to bind; 127.0.0.1 keeps a development instance off the network. */
  HOST: z.string().default('127.0.0.1'),
  /** Public origin; each tenant's issuer is `${PUBLIC_URL}/t/<slug>`. */
  PUBLIC_URL: z.url().optional(),
  /** A real PostgreSQL server. When unset, Facet runs on embedded PGlite in FACET_DATA_DIR. */
  DATABASE_URL: z.string().optional(),
  /** Connections per process to DATABASE_URL (every tenant shares them); unset: 10. */
  FACET_DB_POOL_SIZE: z.coerce.number().int().min(1).max(1000).optional(),
  /** Checkouts after which a pooled connection is replaced (its catalog caches grow with every tenant it served); 0: never; unset: 7500. */
  FACET_DB_MAX_USES: wholeNumber.pipe(z.number().max(1_000_000_000)).optional(),
  /**
   * Seconds after which a pooled connection is replaced once idle; 0: never; unset: 1800. At most a
   * week: Node fires a timer longer than ~24.8 days at once, which would replace every connection.
   */
  FACET_DB_MAX_LIFETIME_SECONDS: wholeNumber.pipe(z.number().max(7 * 24 * 3600)).optional(),
  /** Where embedded PGlite keeps its files (`memory://` keeps nothing). */
  FACET_DATA_DIR: z.string().default('.data'),
  /** Redis for rate limits and jobs. When unset: in-memory limits and inline jobs. */
  REDIS_URL: z.string().optional(),
  /** A worker's lock on a running job; a job whose worker died runs again after about twice this. */
  FACET_JOB_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** Key-encryption key (32 bytes, base64url) for tenant signing keys at rest. */
  FACET_KEK: z.string().optional(),
  /** Secret (≥ 32 bytes, base64url) for the keyed hashes of token and session ids at rest. */
  FACET_TOKEN_HASH_KEY: z.string().optional(),
  /** Comma-separated cookie signing keys; the first signs, all verify. */
  FACET_COOKIE_KEYS: csv.optional(),
  /** Comma-separated Fernet keys for face templates; the first encrypts, all decrypt. */
  FACET_EMBEDDING_KEYS: csv.optional(),
  /**
   * Comma-separated Fernet keys for factor secrets (TOTP seeds, NFC card keys); the first
   * encrypts, all decrypt. Unset with FACET_EMBEDDING_KEYS set: falls back to that ring (warned).
   */
  FACET_FACTOR_KEYS: csv.optional(),
  /** Directory holding the ONNX models described by models/manifest.json. */
  FACET_MODELS_DIR: z.string().default('models/weights'),
  /**
   * Face inference workers (worker threads, each holding the models); unset: FACE_RUNTIME.workers
   * (1). Each also gets a side thread when the machine has two cores per worker.
   */
  FACET_FACE_WORKERS: wholeNumber.pipe(z.number().int().min(1).max(64)).optional(),
  /** Directory of declarative tenant files applied at start. */
  FACET_TENANTS_DIR: z.string().default('tenants'),
  /** How many tenants' OIDC providers stay warm in memory. */
  FACET_TENANT_POOL_SIZE: z.coerce.number().int().min(1).default(100),
  /** How long a warm tenant is served before its version is read again (changes from other processes also arrive at once by LISTEN/NOTIFY on PostgreSQL). */
  FACET_TENANT_RECHECK_MS: z.coerce.number().int().min(0).default(2000),
  /** Signing-key overlap after a rotation: the old key stays published this many seconds. */
  FACET_KEY_OVERLAP_SECONDS: z.coerce.number().int().min(0).default(7 * 24 * 3600),
  /** Trust X-Forwarded-* headers (set when behind a reverse proxy; required in production). */
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  /** Installation-wide rate-limit overrides as JSON, e.g. {"token.ip":{"points":1000}}. */
  FACET_RATE_LIMITS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return undefined;
      try {
        return JSON.parse(value) as Record<string, { points?: number; duration?: number; blockDuration?: number }>;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"token.ip":{"points":1000}}' });
        return z.NEVER;
      }
    }),
  /** OTLP endpoint for traces (unset: tracing off). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Bearer token protecting /metrics (required in production; unset elsewhere: open). */
  METRICS_TOKEN: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Mount test-only helpers (never in production). */
  FACET_TEST_HELPERS: z.enum(['0', '1']).default('0'),
  /** The tenant whose users holding the `operator` role run the platform console at /console (unset: no /console). */
  FACET_OPERATOR_TENANT: z.string().regex(/^[a-z0-9-]{2,40}$/, 'a tenant slug').optional(),
});

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends FacetError {
  override name = 'ConfigError';
  readonly code = 'invalid_config';
}

/**
 * The factor-secret ring. Before FACET_FACTOR_KEYS existed, TOTP seeds and NFC card keys were sealed
 * with FACET_EMBEDDING_KEYS: a deployment that sets only that keeps using it (and is warned at
 * boot). In development the factor ring also decrypts with the development embedding key, so data
 * sealed before the split stays readable.
 */
function factorKeys(env: z.infer<typeof envSchema>): { factorKeys: string[]; factorKeysFallback: boolean } {
  if (env.FACET_FACTOR_KEYS && env.FACET_FACTOR_KEYS.length > 0) return { factorKeys: env.FACET_FACTOR_KEYS, factorKeysFallback: false };
  if (env.FACET_EMBEDDING_KEYS && env.FACET_EMBEDDING_KEYS.length > 0) return { factorKeys: env.FACET_EMBEDDING_KEYS, factorKeysFallback: true };
  return { factorKeys: [DEV_SECRETS.FACET_FACTOR_KEYS, DEV_SECRETS.FACET_EMBEDDING_KEYS], factorKeysFallback: false };
}

function buildConfig(env: z.infer<typeof envSchema>, source: NodeJS.ProcessEnv = {}) {
  const production = env.NODE_ENV === 'production';
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '');
  return {
    env: env.NODE_ENV,
    production,
    port: env.PORT,
    host: env.HOST,
    publicUrl,
    secureCookies: publicUrl.startsWith('https://'),
    database: env.DATABASE_URL
      ? ({
          kind: 'postgres',
          url: env.DATABASE_URL,
          ...(env.FACET_DB_POOL_SIZE ? { poolSize: env.FACET_DB_POOL_SIZE } : {}),
          ...(env.FACET_DB_MAX_USES !== undefined ? { maxUses: env.FACET_DB_MAX_USES } : {}),
          ...(env.FACET_DB_MAX_LIFETIME_SECONDS !== undefined ? { maxLifetimeSeconds: env.FACET_DB_MAX_LIFETIME_SECONDS } : {}),
        } as const)
      : ({ kind: 'pglite', dataDir: env.FACET_DATA_DIR } as const),
    redisUrl: env.REDIS_URL,
    jobLockMs: env.FACET_JOB_LOCK_MS,
    kek: env.FACET_KEK ?? DEV_SECRETS.FACET_KEK,
    tokenHashKey: env.FACET_TOKEN_HASH_KEY ?? DEV_SECRETS.FACET_TOKEN_HASH_KEY,
    cookieKeys: env.FACET_COOKIE_KEYS ?? [DEV_SECRETS.FACET_COOKIE_KEYS],
    embeddingKeys: env.FACET_EMBEDDING_KEYS ?? [DEV_SECRETS.FACET_EMBEDDING_KEYS],
    ...factorKeys(env),
    modelsDir: env.FACET_MODELS_DIR,
    faceWorkers: env.FACET_FACE_WORKERS,
    tenantsDir: env.FACET_TENANTS_DIR,
    tenantPoolSize: env.FACET_TENANT_POOL_SIZE,
    tenantRecheckMs: env.FACET_TENANT_RECHECK_MS,
    keyOverlapSeconds: env.FACET_KEY_OVERLAP_SECONDS,
    trustProxy: env.TRUST_PROXY,
    metricsToken: env.METRICS_TOKEN,
    rateLimits: env.FACET_RATE_LIMITS as Record<string, { points?: number; duration?: number; blockDuration?: number }> | undefined,
    otelEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    logLevel: env.LOG_LEVEL,
    testHelpers: env.FACET_TEST_HELPERS === '1' && !production,
    operatorTenant: env.FACET_OPERATOR_TENANT,
    audit: auditSettings(source),
  };
}

/** Reads and validates the environment. Throws ConfigError listing every problem at once. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const env = parsed.data;
  if (env.NODE_ENV === 'production') {
    const problems: string[] = [];
    if (!env.PUBLIC_URL) problems.push('PUBLIC_URL is required in production');
    else if (!env.PUBLIC_URL.startsWith('https://')) {
      problems.push(`PUBLIC_URL must be https:// in production (it is the base of every tenant's issuer and makes cookies Secure), not ${env.PUBLIC_URL}; behind a TLS-terminating proxy give the public https origin`);
    }
    // Facet listens on plain HTTP, so TLS ends at a proxy; Koa marks a request secure (and lets the
    // Secure cookies be set) only from that proxy's X-Forwarded-Proto, which TRUST_PROXY honours.
    if (!env.TRUST_PROXY) problems.push('TRUST_PROXY must be true in production: Facet serves plain HTTP behind a TLS-terminating proxy and sets its Secure cookies only on requests that proxy marks X-Forwarded-Proto: https');
    if (!env.METRICS_TOKEN) problems.push('METRICS_TOKEN is required in production: /metrics is served on the public port and would be open');
    for (const name of ['FACET_KEK', 'FACET_TOKEN_HASH_KEY', 'FACET_COOKIE_KEYS', 'FACET_EMBEDDING_KEYS'] as const) {
      const value = env[name];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) {
        problems.push(`${name} is required in production`);
      } else {
        // FACET_KEK is a ring in one string ("<new>,<old>"): every key of it is checked, not the whole.
        const keys = Array.isArray(value) ? value : name === 'FACET_KEK' ? value.split(',').map((key) => key.trim()).filter(Boolean) : [value];
        if (keys.length === 0) problems.push(`${name} is required in production`);
        keys.forEach((key, index) => {
          if (isDevSecret(key)) problems.push(`${name}${keys.length > 1 ? ` (key ${index + 1} of ${keys.length})` : ''} holds a published development value; generate a real secret`);
        });
      }
    }
    // FACET_FACTOR_KEYS may be left out (or empty) only while the FACET_EMBEDDING_KEYS fallback applies.
    if (env.FACET_FACTOR_KEYS?.length) {
      if (env.FACET_FACTOR_KEYS.some(isDevSecret)) problems.push('FACET_FACTOR_KEYS holds a published development value; generate a real secret');
    } else if (!env.FACET_EMBEDDING_KEYS?.length) {
      problems.push('FACET_FACTOR_KEYS is required in production (or, for now, FACET_EMBEDDING_KEYS alone: it then also seals factor secrets)');
    }
    problems.push(...productionSecretProblems(source, isDevSecret));
    if (env.FACET_TEST_HELPERS === '1') problems.push('FACET_TEST_HELPERS must not be set in production');
    if (problems.length > 0) throw new ConfigError(`refusing to start in production:\n  ${problems.join('\n  ')}`);
  }
  return buildConfig(env, source);
}
