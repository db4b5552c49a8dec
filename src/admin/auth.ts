// Admin API authentication. Two kinds of caller:
// - machines: an OAuth access token (RFC 6750 Bearer) issued by this tenant with client_credentials
//   for the built-in admin resource `<issuer>/admin/api` (src/oidc/admin-resource.ts checks
//   signature, issuer, audience, type, expiry, that the client still holds its scopes, revocation).
//   Each route needs one admin scope (src/admin/permissions.ts: admin:read, admin:write,
//   audit:read); a token without it gets 403 insufficient_scope. Machines have no step-up: what a
//   client may do is decided by the scopes the tenant file grants it.
// - the console: its server-side session (src/console/routes.ts sets ctx.state.consolePrincipal),
//   whose roles are checked per route and whose step-up must be fresh for sensitive routes.
// The static per-tenant admin token is gone (tenant files that still set one are refused with a
// message saying what to use instead: src/tenancy/tenant-file.ts ADMIN_TOKEN_GONE).
import type { Context, Next } from 'koa';
import type { Config } from '../config/index.ts';
import { HttpError } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { ADMIN_TOKEN_FAILURES, adminResourceIndicator } from '../oidc/admin-resource.ts';
import { respondProblem } from '../http/error-responder.ts';
import { isSensitive, mayCall, routeKey, scopeFor } from './permissions.ts';
import { stepUpState, type ConsolePrincipal } from '../console/principal.ts';

const REALM = 'facet-admin';

export function requireAdminAuth(config: Pick<Config, 'publicUrl'>) {
  return async (ctx: Context, next: Next) => {
    const runtime = ctx.state.tenant as TenantRuntime;
    const principal = ctx.state.consolePrincipal as ConsolePrincipal | undefined;
    if (principal) return consoleCall(ctx, next, runtime, principal);
    return machineCall(ctx, next, runtime, adminResourceIndicator(`${config.publicUrl}${runtime.basePath}`));
  };
}

const matchedKey = (ctx: Context) => routeKey(ctx.method, (ctx as Context & { _matchedRoute?: string })._matchedRoute);

/** A machine call: a valid admin access token of this tenant carrying the route's scope. */
async function machineCall(ctx: Context, next: Next, runtime: TenantRuntime, resource: string): Promise<void> {
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(ctx.get('authorization'));
  if (!match) {
    ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", scope="admin:read admin:write audit:read"`);
    throw new HttpError(401, 'unauthorized', 'Unauthorized', `An admin access token is required: client_credentials at ${runtime.basePath}/token with resource=${resource} (docs/admin-api.md).`);
  }
  const check = await runtime.verifyAdminToken(match[1]!);
  if (!check.ok) {
    const description = ADMIN_TOKEN_FAILURES[check.reason];
    ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="${description.replace(/"/g, "'")}"`);
    throw new HttpError(401, 'invalid_token', 'Unauthorized', description, { extensions: { reason: check.reason } });
  }
  const key = matchedKey(ctx);
  const needed = scopeFor(key);
  if (!check.scopes.includes(needed)) {
    ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope", scope="${needed}"`);
    throw new HttpError(403, 'insufficient_scope', 'Forbidden', `This call (${key}) needs the ${needed} scope; the token carries ${check.scopes.join(' ') || 'no admin scope'}.`, {
      extensions: { scope: needed },
    });
  }
  ctx.state.adminActor = `client:${check.clientId}`;
  ctx.state.adminClient = { clientId: check.clientId, scopes: check.scopes };
  await next();
}

/** A console call: the route must be one of the principal's roles', and a sensitive one needs a fresh step-up. */
async function consoleCall(ctx: Context, next: Next, runtime: TenantRuntime, principal: ConsolePrincipal): Promise<void> {
  const key = matchedKey(ctx);
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
