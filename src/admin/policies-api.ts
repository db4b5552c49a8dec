// The admin API's security policies (issue 12): sign-up mode, user verification, the admin acr,
// refresh-token lifetimes and grace, rate limits — each with its default. Changing them is a
// sensitive action (fresh step-up in the console; audited) and is refused for a tenant whose file
// is in FACET_TENANTS_DIR: the file stays the source of truth for what it declares (the next start
// would apply it again), so the console never silently diverges from it.
import { access } from 'node:fs/promises';
import path from 'node:path';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { REFRESH_DEFAULTS } from '../config/defaults.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { HttpError } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { DEFAULT_LIMITS } from '../ratelimit/policies.ts';
import { storedTenantSettingsSchema, tenantSettingsSchema, type TenantSettings } from '../tenancy/tenant-file.ts';
import { findTenant, saveTenantSettings } from '../tenancy/registry.ts';
import { fieldErrors, guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';
import { DEFAULT_ADMIN_ACR } from '../console/principal.ts';
import { policiesBody } from './policy-settings.ts';

type Db = Parameters<typeof withTenant>[0];

export { policiesBody };

const policies = z.object({
  signup: z.enum(['open', 'invite', 'closed']),
  user_verification: z.enum(['required', 'preferred']),
  admin_acr: z.string(),
  refresh_tokens: z.object({ grace_seconds: z.number().int(), absolute_lifetime_seconds: z.number().int(), idle_timeout_seconds: z.number().int() }),
  rate_limits: z.record(z.string(), z.object({ points: z.number().int().optional(), duration: z.number().int().optional(), blockDuration: z.number().int().optional() })),
});

const AUTH_PROBLEMS = {
  401: 'No valid admin access token (invalid_token), or no console session.',
  403: 'The console role may not call this route (role_forbidden), or it needs a fresh step-up (step_up_required, with `redirect`).',
  429: 'Too many admin API requests from this address (Retry-After).',
} as const;

export const POLICY_ROUTES = {
  getPolicies: {
    method: 'get',
    path: '/policies',
    operationId: 'getPolicies',
    summary: "The tenant's security policies, their defaults, and whether a tenant file manages them",
    tags: ['policies'],
    responses: { 200: { description: 'The policies.', schema: z.object({ policies, defaults: policies, managedBy: z.string().nullable() }) } },
    problems: AUTH_PROBLEMS,
  },
  putPolicies: {
    method: 'put',
    path: '/policies',
    operationId: 'changePolicies',
    summary: 'Change security policies (sensitive; audited); refused when a tenant file manages this tenant',
    tags: ['policies'],
    body: policiesBody,
    bodyRequired: true,
    responses: { 200: { description: 'The policies now.', schema: z.object({ policies, defaults: policies, managedBy: z.string().nullable() }) } },
    problems: { 400: 'Invalid parameters (a value outside its range, an unknown key).', 409: 'A tenant file manages this tenant (managed_by_file): change the file and apply it.', ...AUTH_PROBLEMS },
  },
} satisfies Record<string, RouteSpec>;

const DEFAULTS = {
  signup: 'invite' as const,
  user_verification: 'required' as const,
  admin_acr: DEFAULT_ADMIN_ACR,
  refresh_tokens: { grace_seconds: REFRESH_DEFAULTS.graceSeconds, absolute_lifetime_seconds: REFRESH_DEFAULTS.absoluteSeconds, idle_timeout_seconds: REFRESH_DEFAULTS.idleSeconds },
  rate_limits: DEFAULT_LIMITS as Record<string, { points: number; duration: number; blockDuration?: number }>,
};

function current(settings: Pick<TenantSettings, 'signup' | 'user_verification' | 'admin_acr' | 'refresh_tokens' | 'rate_limits'>) {
  return {
    signup: settings.signup ?? DEFAULTS.signup,
    user_verification: settings.user_verification ?? DEFAULTS.user_verification,
    admin_acr: settings.admin_acr ?? DEFAULTS.admin_acr,
    refresh_tokens: { ...DEFAULTS.refresh_tokens, ...(settings.refresh_tokens ?? {}) },
    rate_limits: settings.rate_limits ?? {},
  };
}

async function tenantFileOf(config: Config, slug: string): Promise<string | null> {
  for (const name of [`${slug}.yaml`, `${slug}.yml`]) {
    const file = path.join(config.tenantsDir, name);
    if (await access(file).then(() => true, () => false)) return path.relative(process.cwd(), file) || file;
  }
  return null;
}

export function registerPoliciesApi(router: Router, { config, db, guard, checkResponses }: { config: Config; db: Db; guard: Middleware[]; checkResponses: boolean }): void {
  const options = { checkResponses };
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`/admin/api${spec.path}`, ...guard, handle);
  const runtimeOf = (ctx: Context) => ctx.state.tenant as TenantRuntime;

  mount(
    route(
      POLICY_ROUTES.getPolicies,
      async (ctx) => {
        const runtime = runtimeOf(ctx);
        // From the registry, not the warm runtime (which follows a change within a couple of seconds).
        const settings = (await findTenant(db, runtime.tenant.slug))?.settings ?? runtime.tenant.settings;
        return { status: 200, body: { policies: current(settings), defaults: DEFAULTS, managedBy: await tenantFileOf(config, runtime.tenant.slug) } };
      },
      options,
    ),
  );

  mount(
    route(
      POLICY_ROUTES.putPolicies,
      async (ctx, { body }) => {
        const runtime = runtimeOf(ctx);
        const managedBy = await tenantFileOf(config, runtime.tenant.slug);
        if (managedBy) throw new HttpError(409, 'managed_by_file', 'Conflict', `${managedBy} manages this tenant's policies: change the file and apply it (facet tenant apply ${managedBy}).`);
        const settings = (await findTenant(db, runtime.tenant.slug))?.settings ?? runtime.tenant.settings;
        // Untyped only until it is checked: the stored settings with the body's fields over them.
        const next: Record<string, unknown> = { ...settings };
        for (const [key, value] of Object.entries(body)) if (value !== undefined) next[key] = value;
        if (body.refresh_tokens) next.refresh_tokens = { ...settings.refresh_tokens, ...body.refresh_tokens };
        // The whole result must still be a valid settings object (the tenant file's own rules, with
        // the resources and admins a tenant file stored beside them).
        const checked = storedTenantSettingsSchema.safeParse(next);
        if (!checked.success) throw new HttpError(400, 'invalid_parameters', 'Invalid parameters', z.prettifyError(checked.error), { extensions: { errors: fieldErrors('body', checked.error) } });
        await saveTenantSettings(db, runtime.tenant.slug, { settings: checked.data });
        await withTenant(db, runtime.tenant, (trx) =>
          appendAudit(trx, { type: 'tenant.settings_changed', actor: String(ctx.state.adminActor ?? 'admin'), ip: ctx.ip, userAgent: ctx.get('user-agent') || null }),
        );
        return { status: 200, body: { policies: current(checked.data), defaults: DEFAULTS, managedBy: null } };
      },
      options,
    ),
  );
}
