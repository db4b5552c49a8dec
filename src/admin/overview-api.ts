// The admin API's overview (issue 12): per UTC day over the last N days (default 30), read from
// the tenant's audit trail — authentications by factor and outcome (sign-ins and step-ups),
// active users (daily, and monthly as distinct users in the 30 days up to each day), sign-ups,
// failed attempts, lockouts, refresh-token reuse detections and face match outcomes. The console's
// Overview page charts these and shows the same numbers as tables.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { withTenant } from '../db/tenant-scope.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { overview, overviewSchema } from '../audit/overview.ts';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';

type Db = Parameters<typeof withTenant>[0];

/** The figures themselves are computed in src/audit/overview.ts. */
export { overview, type Overview } from '../audit/overview.ts';

export const OVERVIEW_ROUTES = {
  overview: {
    method: 'get',
    path: '/stats/overview',
    operationId: 'getOverview',
    summary: 'Daily sign-in, user and security figures from the audit trail (UTC days)',
    tags: ['overview'],
    query: z.object({ days: z.coerce.number().int().min(1).max(90).default(30).describe('How many days back, today included.') }),
    responses: { 200: { description: 'One number per day for each series.', schema: overviewSchema } },
    problems: {
      400: 'Invalid parameters (days outside 1–90).',
      401: 'No valid admin access token (invalid_token), or no console session.',
      403: 'The console role may not call this route (role_forbidden).',
      429: 'Too many admin API requests from this address (Retry-After).',
    },
  },
} satisfies Record<string, RouteSpec>;

export function registerOverviewApi(router: Router, { db, guard, checkResponses }: { db: Db; guard: Middleware[]; checkResponses: boolean }): void {
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`/admin/api${spec.path}`, ...guard, handle);
  mount(
    route(
      OVERVIEW_ROUTES.overview,
      async (ctx: Context, { query: { days } }) => ({ status: 200, body: await withTenant(db, (ctx.state.tenant as TenantRuntime).tenant, (trx) => overview(trx, { days })) }),
      { checkResponses },
    ),
  );
}
