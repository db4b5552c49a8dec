// Rate limits as middleware: one policy, one bucket key per request, and the one 429 responder
// (src/http/error-responder.ts respondRateLimited): Retry-After always, OAuth error JSON
// (`temporarily_unavailable`, RFC 6749 §4.1.2.1 — OAuth has no rate-limit code, and clients that
// know only the standard codes still back off) on OAuth endpoints, problem+json for the admin API
// and JSON calls, a page for browsers.
import type { Context, Next } from 'koa';
import type { RateLimits, RateLimitSettings, TenantRef } from '../../ratelimit/rate-limits.ts';
import type { PolicyKey } from '../../ratelimit/policies.ts';
import { respondRateLimited } from '../error-responder.ts';

/** Returns the bucket (an IP, a username, a client_id); undefined or '' skips the check. */
export type KeyFn = (ctx: Context) => string | undefined | Promise<string | undefined>;

export interface RateLimitOptions {
  /** Which tenant the request belongs to. Default: the tenant runtime in `ctx.state.tenant`. */
  tenantOf?: (ctx: Context) => TenantRef | undefined;
  /** What the caller is told (default: when to try again). */
  detail?: (retryAfterSeconds: number, ctx: Context) => string;
}

export function rateLimit(limits: RateLimits, policy: PolicyKey, keyFn: KeyFn, { tenantOf = tenantOfState, detail }: RateLimitOptions = {}) {
  return async function rateLimited(ctx: Context, next: Next) {
    const key = await keyFn(ctx);
    if (key === undefined || key === '') return next();
    const verdict = await limits.consume(policy, key, { tenant: tenantOf(ctx) });
    if (verdict.allowed) return next();
    respondRateLimited(ctx, verdict.retryAfterSeconds, detail ? { detail: detail(verdict.retryAfterSeconds, ctx) } : {});
  };
}

export function tenantOfState(ctx: Context): TenantRef | undefined {
  // The tenant runtime's typed settings (TenantSettings, parsed when the tenant was loaded).
  const runtime = ctx.state?.tenant as { tenant?: { slug?: unknown; settings?: RateLimitSettings } } | undefined;
  const slug = runtime?.tenant?.slug;
  return typeof slug === 'string' ? { slug, settings: runtime?.tenant?.settings } : undefined;
}
