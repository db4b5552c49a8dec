// Outermost Koa middleware: gives every request a correlation id (a well-formed incoming
// X-Request-Id is kept, so ids follow a request across services), returns it in the response,
// puts a child logger on ctx.state.log, and writes one JSON line per request — tenant, route,
// status, duration, request id and the trace id of the active span — plus the HTTP metrics.
import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestLoggerMetrics {
  httpRequests: { inc(labels: { method: string; route: string; status: string }): void };
  httpDuration: { observe(labels: { method: string; route: string }, seconds: number): void };
}

export interface RequestLoggerOptions {
  metrics?: RequestLoggerMetrics;
  /** The route template for logs and metric labels; default: the router's match, else a normalized path. */
  routeOf?: (ctx: Context) => string;
  /** The tenant slug; default: `ctx.state.tenant.tenant.slug`. */
  tenantOf?: (ctx: Context) => string | undefined;
  /** Paths not logged (still counted): health probes and scrapes would drown everything else. */
  quietPaths?: string[];
  /** The level of a request line below 500: 'info' (production, tests), 'debug' in development so `npm start` stays readable. */
  level?: 'info' | 'debug';
}

export function requestLogger(
  logger: Logger,
  { metrics, routeOf = defaultRoute, tenantOf = defaultTenant, quietPaths = ['/health', '/ready', '/metrics'], level = 'info' }: RequestLoggerOptions = {},
) {
  return async function logRequest(ctx: Context, next: Next) {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const span = trace.getActiveSpan()?.spanContext();
    const traceFields = span && span.traceId !== '00000000000000000000000000000000' ? { traceId: span.traceId, spanId: span.spanId } : {};
    // Created on first use: most requests (token, discovery) never log through it.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (child ??= logger.child({ requestId, ...traceFields })),
      set: (value: Logger) => {
        child = value;
      },
      configurable: true,
      enumerable: true,
    });

    let failure: unknown;
    try {
      await next();
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = failure ? statusOf(failure) : ctx.status;
      const route = safe(() => routeOf(ctx), 'unknown');
      metrics?.httpRequests.inc({ method: ctx.method, route, status: String(status) });
      metrics?.httpDuration.observe({ method: ctx.method, route }, seconds);
      if (!quietPaths.includes(ctx.path) || status >= 500) {
        const line = {
          requestId,
          ...traceFields,
          tenant: safe(() => tenantOf(ctx), undefined),
          method: ctx.method,
          route,
          // The path without its query string: queries carry codes and tokens.
          path: ctx.path,
          status,
          durationMs: Math.round(seconds * 1e6) / 1e3,
        };
        if (status >= 500) logger.error(line, 'request');
        else logger[level](line, 'request');
      }
    }
  };
}

function statusOf(error: unknown): number {
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

function defaultTenant(ctx: Context): string | undefined {
  const slug = (ctx.state?.tenant as { tenant?: { slug?: unknown } } | undefined)?.tenant?.slug;
  return typeof slug === 'string' ? slug : undefined;
}

/**
 * Low-cardinality route label: the router's template when there is one, else the path with the
 * tenant slug and ids replaced. Unanswered paths (404) share one label, so scanners probing random
 * URLs cannot create unbounded metric series.
 */
export function defaultRoute(ctx: Context): string {
  const matched = (ctx as unknown as { _matchedRoute?: unknown; routerPath?: unknown })._matchedRoute ?? (ctx as unknown as { routerPath?: unknown }).routerPath;
  if (typeof matched === 'string') return matched;
  if (ctx.status === 404) return 'unmatched';
  return ctx.path
    .replace(/^\/t\/[a-z0-9-]{2,40}(?=\/|$)/, '/t/:tenant')
    .split('/')
    .map((segment) => (/^[0-9a-f-]{16,}$/i.test(segment) || /^\d+$/.test(segment) || /^[A-Za-z0-9_-]{20,}$/.test(segment) ? ':id' : segment))
    .join('/');
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
