// Facet's own routes under /t/<slug>/ (pages and APIs); anything not matched here falls through
// to the tenant's OIDC provider.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import { registerInteractionRoutes } from '../interaction/routes.ts';
import { testInteractionRoutes } from './test-helpers.ts';
import { HttpError } from '../errors/http-errors.ts';
import { respondRateLimited } from './error-responder.ts';
import { registerAdminApi } from '../admin/api.ts';
import { consoleBridge, registerConsoleRoutes } from '../console/routes.ts';
import { clientIp } from '../ratelimit/index.ts';
import type { Services } from '../services.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import type { RootDb } from '../db/client.ts';

// One registration is one point of signup.ip: the sign-up form (it starts the registration). The
// passkey ceremony that follows (register/options, register/verify, also used to add a passkey
// after recovery) counts as sign-in volume, so it is limited without spending sign-ups.
const SIGNIN_STEP = /\/(?:interaction\/[^/]+|account\/sign-in)\/(?:passkey\/(?:options|verify)|register\/(?:options|verify)|identify|recovery)$/;
const SIGNUP_STEP = /\/(?:interaction\/[^/]+|account\/sign-in)\/signup$/;

export function tenantRoutes({ config, db, logger, services }: { config: Config; db: RootDb; logger: Logger; services: Services }) {
  const router = new Router({ prefix: '/t/:slug' });
  // Volume limits per client IP on the sign-in and sign-up steps (per-account guessing is handled
  // by the lockout rules in src/lockout).
  router.use(async (ctx, next) => {
    if (ctx.method === 'POST') {
      const policy = SIGNUP_STEP.test(ctx.path) ? 'signup.ip' : SIGNIN_STEP.test(ctx.path) ? 'signin.ip' : undefined;
      if (policy) {
        const runtime = ctx.state.tenant as TenantRuntime;
        const verdict = await services.limits.consume(policy, clientIp(ctx, { trustProxy: config.trustProxy }), { tenant: { slug: runtime.tenant.slug, settings: runtime.tenant.settings } });
        if (!verdict.allowed) {
          return respondRateLimited(ctx as unknown as Context, verdict.retryAfterSeconds, { detail: `Too many attempts from your network. Try again in ${verdict.retryAfterSeconds} seconds.` });
        }
      }
    }
    await next();
  });
  // Test helpers first: their paths sit under the interaction routes' prefix.
  if (config.testHelpers) testInteractionRoutes(router, { config, db, logger, services });
  registerInteractionRoutes(router, { config, db, logger, services });
  registerAdminApi(router, { config, db, services });
  registerConsoleRoutes(router, { config, db });
  // oidc-provider accepts POST here only with SameSite=None session cookies; Facet keeps them Lax
  // (CSRF defence) and offers PAR for parameters too large or sensitive for a URL.
  router.post('/auth', () => {
    throw new HttpError(405, 'method_not_allowed', 'Method not allowed', 'The authorization endpoint accepts GET. To send parameters by POST, use pushed authorization requests (PAR) and pass the request_uri.');
  });
  const routes = router.routes();
  // The console's API calls (/console/api/…) become admin API calls made with the console session.
  const bridge = consoleBridge({ config, db });
  return async (ctx: Context, next: Next) => {
    if (await bridge(ctx)) return;
    return routes(ctx as any, next);
  };
}
