// Facet's own routes under /t/<slug>/ (pages and APIs); anything not matched here falls through
// to the tenant's OIDC provider.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import { registerInteractionRoutes } from '../interaction/routes.ts';
import { testInteractionRoutes } from './test-helpers.ts';
import { HttpError } from '../errors/http-errors.ts';
import { registerAdminApi } from '../admin/api.ts';

export function tenantRoutes({ config, db, logger }: { config: Config; db: Kysely<any>; logger: Logger }) {
  const router = new Router({ prefix: '/t/:slug' });
  // Test helpers first: their paths sit under the interaction routes' prefix.
  if (config.testHelpers) testInteractionRoutes(router, { db, logger });
  registerInteractionRoutes(router, { config, db, logger });
  registerAdminApi(router, { config, db });
  // oidc-provider accepts POST here only with SameSite=None session cookies; Facet keeps them Lax
  // (CSRF defence) and offers PAR for parameters too large or sensitive for a URL.
  router.post('/auth', () => {
    throw new HttpError(405, 'method_not_allowed', 'Method not allowed', 'The authorization endpoint accepts GET. To send parameters by POST, use pushed authorization requests (PAR) and pass the request_uri.');
  });
  const routes = router.routes();
  return (ctx: Context, next: Next) => routes(ctx as any, next);
}
