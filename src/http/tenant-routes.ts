// Facet's own routes under /t/<slug>/ (pages and APIs); anything not matched here falls through
// to the tenant's OIDC provider.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { TenantRuntime } from '../tenancy/runtime.ts';
import { messagePage } from '../../views/layout.ts';
import { testInteractionRoutes } from './test-helpers.ts';

export function tenantRoutes({ config, db, logger }: { config: Config; db: Kysely<any>; logger: Logger }) {
  const router = new Router({ prefix: '/t/:slug' });

  router.get('/interaction/:uid', (ctx) => {
    const runtime = ctx.state.tenant as TenantRuntime;
    ctx.type = 'html';
    ctx.body = messagePage({
      title: 'Sign in',
      tenantName: runtime.tenant.name,
      heading: 'Sign-in is not set up yet',
      message: 'This organisation has not enabled a way to sign in.',
    }).value;
  });

  if (config.testHelpers) testInteractionRoutes(router, { db, logger });

  const routes = router.routes();
  return (ctx: Context, next: Next) => routes(ctx as any, next);
}
