// Every Prometheus metric Facet exposes, in one registry of its own, so tests and several app
// instances in one process never collide on prom-client's global registry. Metric names here are
// the contract with infra/grafana/dashboards/facet.json (scripts/validate-infra.ts checks it).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A sample the lead's collect callbacks return: one value per tenant. */
export interface TenantSample {
  tenant: string;
  value: number;
}

export interface Collectors {
  activeUsers?: () => Promise<TenantSample[]> | TenantSample[];
  lockedAccounts?: () => Promise<TenantSample[]> | TenantSample[];
  queueDepth?: () => Promise<Array<{ queue: string; value: number }>> | Array<{ queue: string; value: number }>;
}

export interface MetricsOptions {
  /** Prefix for every metric name. */
  prefix?: string;
  /** A collect callback slower than this is abandoned (its gauge keeps its last values). */
  collectTimeoutMs?: number;
  /** Node.js process metrics (event loop lag, heap, GC). Off in tests to keep them quick. */
  processMetrics?: boolean;
  /** Called on every scrape; returns active users per tenant. */
  activeUsers?: () => Promise<TenantSample[]> | TenantSample[];
  /** Called on every scrape; returns currently locked accounts per tenant. */
  lockedAccounts?: () => Promise<TenantSample[]> | TenantSample[];
  /** Called on every scrape; returns waiting jobs per queue. */
  queueDepth?: () => Promise<Array<{ queue: string; value: number }>> | Array<{ queue: string; value: number }>;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics({
  prefix = 'facet_',
  collectTimeoutMs = 2000,
  processMetrics = false,
  activeUsers,
  lockedAccounts,
  queueDepth,
}: MetricsOptions = {}) {
  // Mutable so the lead can attach a callback once the thing it reads exists (e.g. the job runner).
  const collectors: Collectors = { activeUsers, lockedAccounts, queueDepth };
  const registry = new Registry();
  const registers = [registry];
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix });

  const httpRequests = new Counter({
    name: `${prefix}http_requests_total`,
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'HTTP request latency in seconds, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const registrations = new Counter({
    name: `${prefix}registrations_total`,
    help: 'Account registrations, by tenant and outcome.',
    labelNames: ['tenant', 'outcome'] as const,
    registers,
  });
  const signIns = new Counter({
    name: `${prefix}signins_total`,
    help: 'Sign-in attempts, by tenant, factor (passkey, recovery_code) and outcome (success, failure, locked).',
    labelNames: ['tenant', 'factor', 'outcome'] as const,
    registers,
  });
  const stepUpChallenges = new Counter({
    name: `${prefix}stepup_challenges_total`,
    help: 'Step-up challenges, by tenant, factor and outcome (issued, success, failure).',
    labelNames: ['tenant', 'factor', 'outcome'] as const,
    registers,
  });
  const livenessChecks = new Counter({
    name: `${prefix}liveness_checks_total`,
    help: 'Face liveness (presentation-attack detection) checks, by tenant and outcome (live, spoof, error).',
    labelNames: ['tenant', 'outcome'] as const,
    registers,
  });
  const faceMatchDuration = new Histogram({
    name: `${prefix}face_match_duration_seconds`,
    help: 'Time to detect, align, embed and compare one face, in seconds.',
    labelNames: ['tenant'] as const,
    buckets: [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5],
    registers,
  });
  const vectorSearchDuration = new Histogram({
    name: `${prefix}vector_search_duration_seconds`,
    help: 'Nearest-neighbour search over face templates, in seconds.',
    labelNames: ['tenant'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const rateLimitHits = new Counter({
    name: `${prefix}ratelimit_hits_total`,
    help: 'Requests refused with 429, by policy (signin, signup, token, stepup, admin) and scope (ip, account).',
    labelNames: ['policy', 'scope'] as const,
    registers,
  });
  const tokensIssued = new Counter({
    name: `${prefix}tokens_issued_total`,
    help: 'Tokens issued, by tenant and kind (access_token, id_token, refresh_token, authorization_code).',
    labelNames: ['tenant', 'kind'] as const,
    registers,
  });
  const refreshReuse = new Counter({
    name: `${prefix}refresh_token_reuse_total`,
    help: 'Refresh tokens presented again after rotation (the whole grant is revoked), by tenant.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const jobRuns = new Counter({
    name: `${prefix}job_runs_total`,
    help: 'Background job attempts, by job name and outcome (completed, failed).',
    labelNames: ['job', 'outcome'] as const,
    registers,
  });
  const jobFailures = new Counter({
    name: `${prefix}job_failures_total`,
    help: 'Background job attempts that threw, by job name.',
    labelNames: ['job'] as const,
    registers,
  });
  const redisDegraded = new Gauge({
    name: `${prefix}redis_degraded`,
    help: '1 while Redis is unreachable and rate limits fall back to per-process memory, else 0.',
    registers,
  });
  redisDegraded.set(0);
  const lockouts = new Counter({
    name: `${prefix}lockouts_total`,
    help: 'Factor lockouts started, by tenant and factor.',
    labelNames: ['tenant', 'factor'] as const,
    registers,
  });

  const activeUsersGauge = new Gauge({
    name: `${prefix}active_users`,
    help: 'Active (not locked, not deleted) users, by tenant.',
    labelNames: ['tenant'] as const,
    registers,
    async collect() {
      const read = collectors.activeUsers;
      if (!read) return;
      // A failing callback must not break the whole scrape: keep the last values instead.
      const samples = await withTimeout(Promise.resolve().then(read), collectTimeoutMs).catch(() => undefined);
      if (!samples) return;
      this.reset();
      for (const s of samples) this.set({ tenant: s.tenant }, s.value);
    },
  });
  const lockedAccountsGauge = new Gauge({
    name: `${prefix}locked_accounts`,
    help: 'Users with at least one factor currently locked or disabled, by tenant.',
    labelNames: ['tenant'] as const,
    registers,
    async collect() {
      const read = collectors.lockedAccounts;
      if (!read) return;
      // A failing callback must not break the whole scrape: keep the last values instead.
      const samples = await withTimeout(Promise.resolve().then(read), collectTimeoutMs).catch(() => undefined);
      if (!samples) return;
      this.reset();
      for (const s of samples) this.set({ tenant: s.tenant }, s.value);
    },
  });
  const jobQueueDepth = new Gauge({
    name: `${prefix}job_queue_depth`,
    help: 'Jobs waiting or delayed, by queue.',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      const read = collectors.queueDepth;
      if (!read) return;
      // A failing callback must not break the whole scrape: keep the last values instead.
      const samples = await withTimeout(Promise.resolve().then(read), collectTimeoutMs).catch(() => undefined);
      if (!samples) return;
      this.reset();
      for (const s of samples) this.set({ queue: s.queue }, s.value);
    },
  });

  return {
    registry,
    collectors,
    httpRequests,
    httpDuration,
    registrations,
    signIns,
    stepUpChallenges,
    livenessChecks,
    faceMatchDuration,
    vectorSearchDuration,
    rateLimitHits,
    tokensIssued,
    refreshReuse,
    jobRuns,
    jobFailures,
    redisDegraded,
    lockouts,
    activeUsers: activeUsersGauge,
    lockedAccounts: lockedAccountsGauge,
    jobQueueDepth,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

// A scrape must answer even when a database or Redis behind a callback hangs.
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('collect timed out')), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
