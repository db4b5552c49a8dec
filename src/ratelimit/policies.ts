// Named rate-limit policies and their defaults. Each policy has an `ip` scope (one client address)
// and an `account` scope (one username, user id or client_id), counted separately, so a botnet
// spraying one account and one address spraying many accounts are both slowed down.
export const POLICY_NAMES = ['signin', 'signup', 'token', 'stepup', 'admin'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];
export type Scope = 'ip' | 'account';
/** `signin.ip`, `token.account`, … */
export type PolicyKey = `${PolicyName}.${Scope}`;
/** Every policy key, for schemas (a tenant file naming another key is refused). */
export const POLICY_KEYS = POLICY_NAMES.flatMap((name) => [`${name}.ip`, `${name}.account`] as const) as readonly PolicyKey[];

export interface Limit {
  /** Requests allowed per window. */
  points: number;
  /** Window length in seconds. */
  duration: number;
  /** Once over the limit, refuse for this many seconds (0 = until the window ends). */
  blockDuration?: number;
}

export type Limits = Record<PolicyKey, Limit>;

/**
 * Defaults: generous for people, tight for scripts. Sign-in and step-up also have per-factor
 * lockout (src/lockout), so these only need to stop volume, not guessing of one account.
 */
export const DEFAULT_LIMITS: Limits = {
  // 30 sign-in attempts a minute from one address (an office behind NAT still fits).
  'signin.ip': { points: 30, duration: 60 },
  // 10 a minute against one account (the username typed on the sign-in or recovery form), then a
  // 5-minute pause.
  'signin.account': { points: 10, duration: 60, blockDuration: 300 },
  // 10 registrations an hour from one address.
  'signup.ip': { points: 10, duration: 3600 },
  // 3 registration attempts an hour for one username and for one e-mail address.
  'signup.account': { points: 3, duration: 3600 },
  // 300 token requests a minute from one address (back-end clients share few addresses).
  'token.ip': { points: 300, duration: 60 },
  // 600 a minute per client_id (clients that authenticate with HTTP Basic, the default method;
  // others are counted by address only, before their credentials are read).
  'token.account': { points: 600, duration: 60 },
  // 20 step-up attempts a minute from one address.
  'stepup.ip': { points: 20, duration: 60 },
  // 10 a minute per user, then a 5-minute pause.
  'stepup.account': { points: 10, duration: 60, blockDuration: 300 },
  // 300 admin API calls a minute per address and per administrator (the admin token's actor).
  'admin.ip': { points: 300, duration: 60 },
  'admin.account': { points: 300, duration: 60 },
};

/** What a tenant may change: any subset of any policy. */
export type LimitOverrides = Partial<Record<PolicyKey, Partial<Limit>>>;

export function isPolicyKey(value: string): value is PolicyKey {
  const [name, scope] = value.split('.');
  return (POLICY_NAMES as readonly string[]).includes(name) && (scope === 'ip' || scope === 'account');
}

/** Merges base limits with overrides, ignoring unknown keys and non-positive numbers. */
export function mergeLimits(base: Limits, overrides: LimitOverrides | undefined): Limits {
  if (!overrides) return base;
  const merged = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (!isPolicyKey(key) || !value) continue;
    const next = { ...merged[key] };
    if (positive(value.points)) next.points = Math.floor(value.points);
    if (positive(value.duration)) next.duration = Math.floor(value.duration);
    if (value.blockDuration !== undefined && Number.isFinite(value.blockDuration) && value.blockDuration >= 0) {
      next.blockDuration = Math.floor(value.blockDuration);
    }
    merged[key] = next;
  }
  return merged;
}

function positive(n: number | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 1;
}

/**
 * How long the limiter waits for Redis, and its circuit breaker. A Redis that is down fails fast on
 * its own; one that hangs (stopped process, socket open, overloaded) would hold every request
 * that takes a point. Each Redis call gives up after `timeoutMs` and counts in the per-process
 * limiter instead; `failuresToOpen` such failures in a row open the breaker, so requests skip Redis
 * altogether; after `openMs` a PING in the background (half-open: no request waits for it) closes
 * the breaker if Redis answers within `timeoutMs`, or keeps it open for another `openMs`.
 */
export interface RedisGuard {
  timeoutMs: number;
  failuresToOpen: number;
  openMs: number;
}

export const DEFAULT_REDIS_GUARD: RedisGuard = { timeoutMs: 200, failuresToOpen: 1, openMs: 2000 };
