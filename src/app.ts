// The root HTTP application: health endpoints, static assets, and `/t/<slug>/…`, which resolves the
// tenant from the warm pool and hands the request to that tenant's routes or its OIDC provider.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa, { type Context, type Next } from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import type { Database } from './db/client.ts';
import { HttpError, notFound } from './errors/http-errors.ts';
import { errorHandler, respondRateLimited } from './http/error-responder.ts';
import { buildTenantProvider } from './oidc/provider.ts';
import { createRecordIdCodec } from './oidc/record-ids.ts';
import { createTenantPool } from './tenancy/pool.ts';
import { findTenant, tenantVersion, type TenantRecord } from './tenancy/registry.ts';
import { createRuntime, delegateToProvider, isProviderPath, type TenantRuntime } from './oidc/runtime.ts';
import { pageNotFound } from './interaction/not-found.ts';
import { landingPage } from '../ui/pages/landing.tsx';
import { stringsFor } from '../views/strings/index.ts';
import { tenantRoutes } from './http/tenant-routes.ts';
import { createReadiness, presentsToken, publicReadiness } from './http/health.ts';
import { isDatabaseUnavailable, DATABASE_RETRY_AFTER_SECONDS } from './db/errors.ts';
import { serveAssets } from './http/assets.ts';
import { rejectUnstorableInput } from './http/input-guard.ts';
import { servePublicDocument } from './http/public-documents.ts';
import { htmlSecurityHeaders } from './http/middleware/security-headers.ts';
import { languagePreference } from './http/middleware/language.ts';
import type { Services } from './services.ts';
import { requestLogger } from './observability/request-logger.ts';
import { metricsMiddleware } from './observability/metrics-endpoint.ts';
import { labelledChildren } from './observability/labelled-children.ts';
import { clientIp } from './ratelimit/index.ts';
import { rateLimit } from './http/middleware/rate-limit.ts';
import { operatorRoutes } from './console/operator-routes.ts';

export interface FacetApp {
  app: Koa;
  /** The server's request handler: public provider documents on a short path, the rest through Koa. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  pool: ReturnType<typeof createTenantPool<TenantRuntime, TenantRecord>>;
  state: { draining: boolean };
}

/** OAuth endpoints that take client credentials or codes: rate-limited per client IP. */
const TOKEN_ENDPOINTS = /^\/t\/[a-z0-9-]+\/(?:token(?:\/introspection|\/revocation)?|request|device\/auth)$/;

export interface AppHooks {
  /** Injectable clock for protocol state (tests); defaults to Date.now. */
  clock?: () => number;
  onReuseDetected?: (event: { tenant: string; clientId: string; reason: string }) => void;
}

export function createApp({
  config,
  database,
  logger,
  services,
  hooks = {},
}: {
  config: Config;
  database: Database;
  logger: Logger;
  services: Services;
  hooks?: AppHooks;
}): FacetApp {
  const { db } = database;
  const ids = createRecordIdCodec(config.tokenHashKey);
  const state = { draining: false };

  const pool = createTenantPool<TenantRuntime, TenantRecord>({
    max: config.tenantPoolSize,
    recheckMs: config.tenantRecheckMs,
    version: async (slug) => {
      const v = await tenantVersion(db, slug);
      return v && v.status === 'active' ? v.configVersion : undefined;
    },
    find: async (slug) => {
      const tenant = await findTenant(db, slug);
      return tenant?.status === 'active' ? { version: tenant.configVersion, record: tenant } : undefined;
    },
    build: async (slug, found) => {
      const tenant = found ?? (await findTenant(db, slug));
      if (!tenant) throw notFound(`unknown tenant ${slug}`);
      const built = await buildTenantProvider(tenant, {
        db,
        ids,
        publicUrl: config.publicUrl,
        kek: config.kek,
        cookieKeys: config.cookieKeys,
        secureCookies: config.secureCookies,
        production: config.production,
        trustProxy: config.trustProxy,
        operatorTenant: config.operatorTenant,
        ...(hooks.clock ? { now: hooks.clock } : {}),
        onTokensIssued: ({ tenant, kinds }) => {
          for (const kind of kinds) tokensIssued.get({ tenant, kind }).inc();
        },
        onReuseDetected: (event) => {
          logger.warn(event, 'refresh token reuse detected; family revoked');
          services.metrics.refreshReuse.inc({ tenant: event.tenant });
          hooks.onReuseDetected?.(event);
        },
      });
      built.provider.on('server_error', (_ctx, error) => logger.error({ err: error, tenant: slug }, 'oidc server_error'));
      return createRuntime(tenant, built);
    },
  });

  // facet_tokens_issued_total is counted once per token request: through cached children.
  const tokensIssued = labelledChildren(services.metrics.tokensIssued);

  const app = new Koa({ proxy: config.trustProxy });
  app.keys = config.cookieKeys;
  app.silent = true;

  // Request lines at debug in development: `npm start` shows what matters (LOG_LEVEL=debug shows them).
  app.use(requestLogger(logger, { metrics: services.metrics, level: config.env === 'development' ? 'debug' : 'info' }));
  // An outage of the database (or of Redis under a job enqueue) is logged once per 10 s.
  let lastOutageLog = 0;
  const logOutage = (error: unknown, path: string) => {
    if (Date.now() - lastOutageLog < 10_000) return;
    lastOutageLog = Date.now();
    logger.warn({ err: error, path }, 'database (or job queue) unavailable: answering 503 with Retry-After');
  };
  // Outside the error handler, so error pages get the CSP and anti-framing headers too.
  app.use(htmlSecurityHeaders);
  // The reader's language (?lang= from the switcher, its cookie, or Accept-Language).
  app.use(languagePreference());
  app.use(
    errorHandler({
      onUnexpected: (error, ctx) => logger.error({ err: error, requestId: ctx.state.requestId, path: ctx.path }, 'unexpected error'),
      onUnavailable: (error, ctx) => logOutage(error, ctx.path),
    }),
  );

  const root = new Router();
  root.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  const readiness = createReadiness({ db, extra: services.readinessChecks });
  root.get('/ready', async (ctx) => {
    const report = await readiness({ draining: state.draining });
    ctx.status = report.ready ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    // Error messages name hosts and ports: only for a caller with the metrics token.
    ctx.body = presentsToken(ctx.get('authorization'), config.metricsToken) ? report : publicReadiness(report);
  });
  root.get('/', (ctx) => {
    // A browser gets a small landing page (issue 18); API callers the same facts as JSON.
    if (ctx.accepts(['application/json', 'text/html']) === 'text/html') {
      ctx.type = 'html';
      ctx.body = landingPage(config.publicUrl, stringsFor(ctx.get('accept-language')));
      return;
    }
    ctx.body = { service: 'facet', tenants: `${config.publicUrl}/t/<slug>/.well-known/openid-configuration` };
  });
  app.use(metricsMiddleware(services.metrics.registry, { token: config.metricsToken }));
  app.use(serveAssets());
  app.use(root.routes());
  // The platform operator console (/console, /operator/api) when FACET_OPERATOR_TENANT names a tenant.
  const operator = operatorRoutes({
    config,
    db,
    withOperatorTenant: (work) => (config.operatorTenant ? pool.use(config.operatorTenant, work) : Promise.resolve(undefined)),
    poolState: (slug) => pool.peek(slug),
    limited: rateLimit(services.limits, 'admin.ip', (ctx) => clientIp(ctx, { trustProxy: config.trustProxy })),
  });
  if (operator) app.use(operator.routes());

  const tenantRouter = tenantRoutes({ config, db, logger, services });
  const TENANT_PATH = /^\/t\/([a-z0-9-]{2,40})(?:\/|$)/;
  // NUL and other strings PostgreSQL cannot store: refused before the tenant is even loaded.
  const unstorable = rejectUnstorableInput();
  app.use((ctx: Context, next: Next) => (TENANT_PATH.test(ctx.path) ? unstorable(ctx, next) : next()));
  /**
   * token.ip and token.account (the client_id of HTTP Basic client authentication; the body is
   * oidc-provider's to read), taken together in one Redis round trip: both or neither, so an address
   * its own limit refuses does not use up the client's.
   */
  const tenantRefs = new WeakMap<TenantRuntime, { slug: string; settings: TenantRuntime['tenant']['settings'] }>();
  const tokenLimits = (slug: string, runtime: TenantRuntime, ip: string, authorization: string) => {
    let tenant = tenantRefs.get(runtime);
    if (!tenant) tenantRefs.set(runtime, (tenant = { slug, settings: runtime.tenant.settings }));
    const basicClient = basicClientId(authorization);
    return services.limits.consumeAll(basicClient ? [{ policy: 'token.ip', key: ip }, { policy: 'token.account', key: basicClient }] : [{ policy: 'token.ip', key: ip }], { tenant });
  };
  app.use(async (ctx: Context, next: Next) => {
    const match = TENANT_PATH.exec(ctx.path);
    if (!match) return next();
    const slug = match[1]!;
    const handled = await pool.use(slug, async (runtime) => {
      ctx.state.tenant = runtime;
      if (ctx.method === 'POST' && TOKEN_ENDPOINTS.test(ctx.path)) {
        // Already judged when the request came by the short token path (below).
        const verdict = (ctx.req as LimitedRequest)[TOKEN_VERDICT] ?? (await tokenLimits(slug, runtime, clientIp(ctx, { trustProxy: config.trustProxy }), ctx.get('authorization')));
        if (!verdict.allowed) {
          await respondRateLimited(ctx, verdict.retryAfterSeconds);
          return true;
        }
      }
      // The token endpoints are the provider's alone: no need to try the tenant's page routes first.
      let fellThrough = ctx.method === 'POST' && TOKEN_ENDPOINTS.test(ctx.path);
      if (!fellThrough) {
        await tenantRouter(ctx, async () => {
          fellThrough = true;
        });
      }
      if (fellThrough) {
        // Neither Facet's pages nor the provider: the tenant's own 404 (a page for browsers).
        if (!isProviderPath(ctx.path.slice(runtime.basePath.length) || '/')) throw pageNotFound(ctx);
        await delegateToProvider(ctx, runtime);
      }
      return true;
    });
    if (!handled) {
      // A disabled tenant says so (its relying parties and admins learn why), instead of a bare 404.
      if ((await tenantVersion(db, slug))?.status === 'disabled') {
        throw new HttpError(403, 'tenant_disabled', 'Tenant disabled', `The tenant ${slug} is disabled by the platform operator: its sign-in, tokens, pages and admin API are off until an operator enables it again.`);
      }
      throw notFound(`there is no active tenant called ${slug}`);
    }
  });

  // Discovery and JWKS are public, read-mostly documents that Facet adds nothing to: they skip the
  // Koa stack (a second context, routers, per-request logging) and go straight to the tenant's
  // provider, keeping the request id and the HTTP metrics. Measured in docs/benchmarks.md.
  const koaHandler = app.callback();
  const PUBLIC_DOCUMENT = /^\/t\/([a-z0-9-]{2,40})(\/\.well-known\/openid-configuration|\/jwks)(\?.*)?$/;
  // RFC 8414 §3: the metadata of issuer https://host/t/<slug> lives at the origin's root,
  // /.well-known/oauth-authorization-server/t/<slug> (the OpenID discovery document, a superset).
  // The suffix forms some clients try are answered too.
  const AS_METADATA = /^(?:\/\.well-known\/oauth-authorization-server\/t\/([a-z0-9-]{2,40})|\/t\/([a-z0-9-]{2,40})\/\.well-known\/oauth-authorization-server)(\?.*)?$/;
  const publicDocument = (url: string) => {
    const metadata = AS_METADATA.exec(url);
    if (metadata) return { slug: metadata[1] ?? metadata[2]!, path: '/.well-known/openid-configuration', query: metadata[3] ?? '', route: '/.well-known/oauth-authorization-server/t/:tenant' };
    const document = PUBLIC_DOCUMENT.exec(url);
    return document ? { slug: document[1]!, path: document[2]!, query: document[3] ?? '', route: `/t/:tenant${document[2]}` } : undefined;
  };
  const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
  // The short paths' HTTP metrics through cached prom-client children.
  const shortPathRequests = labelledChildren(services.metrics.httpRequests);
  const shortPathDuration = labelledChildren(services.metrics.httpDuration);
  const countShortPath = (method: string, route: string, status: number, seconds: number) => {
    shortPathRequests.get({ method, route, status: String(status) }).inc();
    shortPathDuration.get({ method, route }).observe(seconds);
  };
  // The token endpoint's children by status, without building the key string.
  const tokenMetrics = new Map<number, { count: { inc(): void }; duration: { observe(seconds: number): void } }>();
  const countToken = (status: number, seconds: number) => {
    let children = tokenMetrics.get(status);
    if (!children) {
      children = {
        count: services.metrics.httpRequests.labels({ method: 'POST', route: '/t/:tenant/token', status: String(status) }),
        duration: services.metrics.httpDuration.labels({ method: 'POST', route: '/t/:tenant/token' }),
      };
      tokenMetrics.set(status, children);
    }
    children.count.inc();
    children.duration.observe(seconds);
  };
  // clientIp for a bare request (no Koa context); the header reader only when proxies are trusted.
  const requestIp = (req: IncomingMessage, trustProxy: boolean | number) =>
    clientIp(trustProxy === false || trustProxy === 0 ? { req, get: noHeader } : { req, get: (name: string) => String(req.headers[name.toLowerCase()] ?? '') }, { trustProxy });
  const requestIdOf = (req: IncomingMessage) => {
    const incoming = req.headers['x-request-id'];
    return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  };

  // POST /t/<slug>/token, the busiest endpoint, goes the same short way: rate limits, request id,
  // HTTP metrics and the request log line kept, no outer Koa context. A request the limits refuse,
  // or for an unknown tenant, takes the Koa path for its answer (the verdict travels with it).
  const TOKEN_PATH = /^\/t\/([a-z0-9-]{2,40})\/token$/;
  const serveToken = (slug: string, req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    res.setHeader('X-Request-Id', requestId);
    let viaKoa = false;
    // 'finish' comes once per response: a plain listener (no once-wrapper per request).
    res.on('finish', () => {
      if (viaKoa) return; // counted and logged by the Koa path
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = '/t/:tenant/token';
      countToken(res.statusCode, seconds);
      if (!logger.isLevelEnabled(res.statusCode >= 500 ? 'error' : 'info')) return;
      const line = { requestId, tenant: slug, method: 'POST', route, path: `/t/${slug}/token`, status: res.statusCode, durationMs: Math.round(seconds * 1e6) / 1e3 };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    pool
      .use(slug, async (runtime) => {
        const verdict = await tokenLimits(slug, runtime, requestIp(req, config.trustProxy), req.headers.authorization ?? '');
        if (!verdict.allowed) {
          (req as LimitedRequest)[TOKEN_VERDICT] = verdict;
          return false;
        }
        (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
        req.url = '/token';
        await runtime.handle(req, res);
        return true;
      })
      .then(
        (handled) => {
          if (handled) return;
          viaKoa = true;
          void koaHandler(req, res);
        },
        (error) => failed(error, req, res),
      );
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && !state.draining) {
      const token = TOKEN_PATH.exec(req.url ?? '');
      if (token) {
        serveToken(token[1]!, req, res);
        return;
      }
    }
    const match = req.method === 'GET' && !state.draining ? publicDocument(req.url ?? '') : undefined;
    if (!match) {
      void koaHandler(req, res);
      return;
    }
    const started = process.hrtime.bigint();
    // Set with the stored headers in one writeHead (src/http/public-documents.ts).
    const requestId = requestIdOf(req);
    const { route } = match;
    res.once('finish', () => countShortPath('GET', route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    pool
      .use(match.slug, async (runtime) => {
        // The provider derives its mount path (/t/<slug>) from originalUrl minus url.
        (req as IncomingMessage & { originalUrl?: string }).originalUrl = `/t/${match.slug}${match.path}${match.query}`;
        req.url = match.path + match.query;
        // From precomputed bytes with ETag / 304 (src/http/public-documents.ts); a query string goes to the provider.
        await servePublicDocument(runtime, match.query ? undefined : match.path, req, res, requestId);
        return true;
      })
      .then(
        (handled) => {
          if (!handled) void koaHandler(req, res); // unknown tenant: the normal 404 path
        },
        (error) => {
          if (!res.headersSent) res.setHeader('X-Request-Id', requestId);
          failed(error, req, res);
        },
      );
  };

  /** A failure on a short path, before or outside the provider's own error handling. */
  function failed(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    if (isDatabaseUnavailable(error)) {
      // A cold tenant cannot be loaded while the database is down.
      logOutage(error, req.url ?? '');
      if (!res.headersSent) {
        res.statusCode = 503;
        res.setHeader('content-type', 'application/json');
        res.setHeader('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
        res.setHeader('cache-control', 'no-store');
      }
      res.end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The service is briefly unavailable. Try again in a few seconds.' }));
      return;
    }
    logger.error({ err: error, path: req.url }, 'unexpected error');
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/problem+json');
    }
    res.end(JSON.stringify({ type: 'https://facet.dev/problems/internal_error', title: 'Internal error', status: 500 }));
  }

  return { app, pool, state, handler };
}

const noHeader = () => '';

const TOKEN_VERDICT = Symbol('token endpoint rate-limit verdict');
type LimitedRequest = IncomingMessage & { [TOKEN_VERDICT]?: { allowed: boolean; retryAfterSeconds: number } };

/** The client_id of an `Authorization: Basic` header (RFC 6749 2.3.1: form-urlencoded, then base64). */
function basicClientId(header: string): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const encoded = decoded.slice(0, colon);
  // Most client ids have nothing to decode.
  if (!encoded.includes('%') && !encoded.includes('+')) return encoded;
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
