// Admin API authentication: a per-tenant bearer token, named in the tenant file
// (settings.admin_token: { env: … }) and compared in constant time, or — for calls the console
// makes — the console's server-side session (src/console/routes.ts sets ctx.state.consolePrincipal),
// whose roles are checked per route and whose step-up must be fresh for sensitive routes
// (src/admin/permissions.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Config } from '../config/index.ts';
import { HttpError } from '../errors/http-errors.ts';
import { resolveSecret } from '../config/client-secrets.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { respondProblem } from '../http/error-responder.ts';
import { isSensitive, mayCall, routeKey } from './permissions.ts';
import { stepUpState, type ConsolePrincipal } from '../console/principal.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireAdminToken(config: Config) {
  return async (ctx: Context, next: Next) => {
    const runtime = ctx.state.tenant as TenantRuntime;
    const principal = ctx.state.consolePrincipal as ConsolePrincipal | undefined;
    if (principal) return consoleCall(ctx, next, runtime, principal);
    const ref = (runtime.tenant.settings as { admin_token?: { env: string; dev?: string } }).admin_token;
    if (!ref) throw new HttpError(404, 'admin_api_disabled', 'Not found', 'This tenant has no admin API token configured (settings.admin_token).');
    let expected: string;
    try {
      expected = resolveSecret(`${runtime.tenant.slug} admin API`, ref.env, ref.dev ?? null, config.production, process.env);
    } catch (cause) {
      throw new HttpError(503, 'admin_api_unavailable', 'Admin API unavailable', (cause as Error).message);
    }
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(ctx.get('authorization'));
    // Compare digests: equal length, and no early exit on the first differing byte.
    if (!match || !timingSafeEqual(digest(match[1]!), digest(expected))) {
      ctx.set('WWW-Authenticate', 'Bearer realm="facet-admin"');
      throw new HttpError(401, 'unauthorized', 'Unauthorized', 'A valid admin bearer token is required.');
    }
    ctx.state.adminActor = `admin-token:${runtime.tenant.slug}`;
    await next();
  };
}

/** A console call: the route must be one of the principal's roles', and a sensitive one needs a fresh step-up. */
async function consoleCall(ctx: Context, next: Next, runtime: TenantRuntime, principal: ConsolePrincipal): Promise<void> {
  const key = routeKey(ctx.method, (ctx as Context & { _matchedRoute?: string })._matchedRoute);
  if (!mayCall(principal.roles, key)) {
    throw new HttpError(403, 'role_forbidden', 'Forbidden', `Your role${principal.roles.length === 1 ? '' : 's'} (${principal.roles.join(', ') || 'none'}) may not do this (${key}).`);
  }
  if (isSensitive(key)) {
    const state = stepUpState(principal, runtime.acrPolicy, runtime.tenant.settings);
    if (state.freshUntil === null) {
      const next = typeof ctx.get('x-facet-return') === 'string' && ctx.get('x-facet-return').startsWith(`${runtime.basePath}/console`) ? ctx.get('x-facet-return') : `${runtime.basePath}/console`;
      respondProblem(ctx, 403, 'step_up_required', `This action needs a step-up to ${state.adminAcr} made within the last 5 minutes.`, {
        acr: state.adminAcr,
        redirect: `${runtime.basePath}/console/step-up?${new URLSearchParams({ next })}`,
      });
      return;
    }
  }
  ctx.state.adminActor = principal.userId;
  await next();
}
