// Koa middleware answering 429 in the shape the caller expects:
// - 'oauth': OAuth 2.0 error JSON. RFC 6749 has no rate-limit code; `temporarily_unavailable`
//   (RFC 6749 §4.1.2.1) is the registered code meaning "try again later", so clients that only
//   know the standard codes still back off correctly.
// - 'problem': RFC 9457 problem+json, for the admin API.
// - 'html': a small page, for browsers on the sign-in screens.
// All three carry Retry-After (seconds) and Cache-Control: no-store.
import type { Context, Next } from 'koa';
import type { RateLimits, TenantRef } from './rate-limits.ts';
import type { PolicyKey } from './policies.ts';

export type ResponseStyle = 'oauth' | 'problem' | 'html';

export interface RateLimitMiddlewareOptions {
  style?: ResponseStyle;
  /** Which tenant the request belongs to. Default: `ctx.state.tenant.tenant` (the tenant runtime). */
  tenantOf?: (ctx: Context) => TenantRef | undefined;
}

/** keyFn returns the bucket (an IP, a username, a client_id); undefined skips the check. */
export type KeyFn = (ctx: Context) => string | undefined | Promise<string | undefined>;

export function rateLimitMiddleware(limits: RateLimits, policy: PolicyKey, keyFn: KeyFn, { style = 'problem', tenantOf = defaultTenantOf }: RateLimitMiddlewareOptions = {}) {
  return async function rateLimit(ctx: Context, next: Next) {
    const key = await keyFn(ctx);
    if (key === undefined || key === '') return next();
    const result = await limits.consume(policy, key, { tenant: tenantOf(ctx) });
    if (result.allowed) return next();
    tooManyRequests(ctx, result.retryAfterSeconds, style);
  };
}

export function tooManyRequests(ctx: Context, retryAfterSeconds: number, style: ResponseStyle): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  const description = `Too many requests. Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`;
  if (style === 'oauth') {
    ctx.type = 'application/json';
    ctx.body = { error: 'temporarily_unavailable', error_description: description };
  } else if (style === 'problem') {
    ctx.type = 'application/problem+json';
    ctx.body = JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429, detail: description, retry_after: retryAfterSeconds });
  } else {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too many attempts</title></head>
<body><main><h1>Too many attempts</h1><p>${description}</p><p><a href="">Try again</a></p></main></body></html>
`;
  }
}

function defaultTenantOf(ctx: Context): TenantRef | undefined {
  const runtime = ctx.state?.tenant as { tenant?: { slug?: unknown; settings?: unknown } } | undefined;
  const slug = runtime?.tenant?.slug;
  return typeof slug === 'string' ? { slug, settings: runtime?.tenant?.settings } : undefined;
}
