// The root HTTP application: health endpoints, static assets, and `/t/<slug>/…`, which resolves the
// tenant from the warm pool and hands the request to that tenant's routes or its OIDC provider.
import Koa, { type Context, type Next } from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import type { Database } from './db/client.ts';
import { errorHandler, notFound } from './errors/http-errors.ts';
import { buildTenantProvider } from './oidc/provider.ts';
import { createRecordIdCodec } from './oidc/record-ids.ts';
import { createTenantPool } from './tenancy/pool.ts';
import { findTenant, tenantVersion } from './tenancy/registry.ts';
import { createRuntime, delegateToProvider, type TenantRuntime } from './tenancy/runtime.ts';
import { tenantRoutes } from './http/tenant-routes.ts';
import { readiness } from './http/health.ts';
import { serveAssets } from './http/assets.ts';
import type { Services } from './services.ts';
import { requestLogger } from './observability/request-logger.ts';
import { metricsMiddleware } from './observability/metrics-endpoint.ts';
import { clientIp } from './ratelimit/index.ts';

export interface FacetApp {
  app: Koa;
  pool: ReturnType<typeof createTenantPool<TenantRuntime>>;
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

  const pool = createTenantPool<TenantRuntime>({
    max: config.tenantPoolSize,
    version: async (slug) => {
      const v = await tenantVersion(db, slug);
      return v && v.status === 'active' ? v.configVersion : undefined;
    },
    build: async (slug) => {
      const tenant = await findTenant(db, slug);
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
        ...(hooks.clock ? { now: hooks.clock } : {}),
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

  const app = new Koa({ proxy: config.trustProxy });
  app.keys = config.cookieKeys;
  app.silent = true;

  app.use(requestLogger(logger, { metrics: services.metrics }));
  app.use(async (ctx: Context, next: Next) => {
    ctx.state.services = services;
    await next();
  });
  app.use(
    errorHandler({
      onUnexpected: (error, ctx) => logger.error({ err: error, requestId: ctx.state.requestId, path: ctx.path }, 'unexpected error'),
    }),
  );

  const root = new Router();
  root.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  root.get('/ready', async (ctx) => {
    const report = await readiness({ db, draining: state.draining, extra: services.readinessChecks });
    ctx.status = report.ready ? 200 : 503;
    ctx.body = report;
  });
  root.get('/', (ctx) => {
    ctx.body = { service: 'facet', tenants: `${config.publicUrl}/t/<slug>/.well-known/openid-configuration` };
  });
  app.use(metricsMiddleware(services.metrics.registry, { token: config.metricsToken }));
  app.use(serveAssets());
  app.use(root.routes());

  const tenantRouter = tenantRoutes({ config, db, logger });
  const TENANT_PATH = /^\/t\/([a-z0-9-]{2,40})(?:\/|$)/;
  app.use(async (ctx: Context, next: Next) => {
    const match = TENANT_PATH.exec(ctx.path);
    if (!match) return next();
    const slug = match[1]!;
    const handled = await pool.use(slug, async (runtime) => {
      ctx.state.tenant = runtime;
      if (ctx.method === 'POST' && TOKEN_ENDPOINTS.test(ctx.path)) {
        const verdict = await services.limits.consume('token.ip', clientIp(ctx, { trustProxy: config.trustProxy }), { tenant: { slug, settings: runtime.tenant.settings } });
        if (!verdict.allowed) {
          ctx.status = 429;
          ctx.set('Retry-After', String(verdict.retryAfterSeconds));
          ctx.body = { error: 'temporarily_unavailable', error_description: 'too many requests; retry later' };
          return true;
        }
      }
      let fellThrough = false;
      await tenantRouter(ctx, async () => {
        fellThrough = true;
      });
      if (fellThrough) await delegateToProvider(ctx, runtime);
      return true;
    });
    if (!handled) throw notFound(`there is no active tenant called ${slug}`);
  });

  return { app, pool, state };
}
