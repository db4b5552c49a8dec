// GET /metrics in Prometheus text format. With a token configured, scrapers must send
// `Authorization: Bearer <token>`; the comparison is constant-time so the token cannot be
// guessed byte by byte from response timings.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Registry } from 'prom-client';

export interface MetricsEndpointOptions {
  /** Path served. */
  path?: string;
  /** Bearer token required to scrape; unset = open (keep the port private then). */
  token?: string;
}

export function metricsMiddleware(registry: Registry, { path = '/metrics', token }: MetricsEndpointOptions = {}) {
  const expected = token ? digest(token) : undefined;
  return async function serveMetrics(ctx: Context, next: Next) {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (expected) {
      const presented = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1]?.trim() ?? '';
      // Hashing first makes both sides the same length, which timingSafeEqual requires.
      if (!timingSafeEqual(digest(presented), expected)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.body = 'unauthorized\n';
        return;
      }
    }
    ctx.set('Content-Type', registry.contentType);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await registry.metrics();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
