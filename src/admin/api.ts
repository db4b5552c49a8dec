// The tenant admin JSON API (problem+json errors): security activity, lockouts, account actions.
// Mounted at /t/<slug>/admin/api/…, behind the tenant's admin token and the `admin` rate limits.
// Every route is declared with the route guard (params, query, body and response schemas); the
// OpenAPI 3.1 document at /t/<slug>/admin/api/openapi.json is built from those declarations.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { notFound } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import type { Services } from '../services.ts';
import { lockedAccounts, recentFailedAttempts, suspiciousActivity, unlock } from '../lockout/index.ts';
import { appendAudit, verifyAuditChain } from '../audit/audit-log.ts';
import { findLiveUserById } from '../accounts/users.ts';
import { restoreAccount, revokeSessionsAndGrants, softDeleteAccount } from '../accounts/lifecycle.ts';
import { endFamiliesForAccount } from '../oidc/refresh/families.ts';
import { clientIp } from '../ratelimit/index.ts';
import { requireAdminAuth } from './auth.ts';
import { scopeFor } from './permissions.ts';
import { AUDIT_ROUTES, registerAuditApi } from './audit-api.ts';
import { registerUsersApi, USER_ROUTES } from './users-api.ts';
import { KEY_ROUTES, registerKeysApi } from './keys-api.ts';
import { CLIENT_ROUTES, registerClientsApi } from './clients-api.ts';
import { BRANDING_ROUTES, registerBrandingApi } from './branding-api.ts';
import { OVERVIEW_ROUTES, registerOverviewApi } from './overview-api.ts';
import { POLICY_ROUTES, registerPoliciesApi } from './policies-api.ts';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';
import { openApiDocument } from '../http/openapi.ts';
import { rateLimit } from '../http/middleware/rate-limit.ts';
import { FACTOR_NAMES } from '../factors/names.ts';
import { backchannelTargetsOf, sendBackchannelLogouts, type LogoutTarget } from '../oidc/backchannel-logout.ts';
import type { RootDb } from '../db/client.ts';

// ---------------------------------------------------------------------------------------------
// Declarations: what each route takes and answers.

const windowQuery = z.object({
  hours: z.coerce.number().int().min(1).max(24 * 30).default(24).describe('The window, in hours back from now.'),
  limit: z.coerce.number().int().min(1).max(1000).default(200).describe('At most this many rows.'),
  threshold: z.coerce.number().int().min(1).max(100000).default(20).describe('Failures at or above which an address or account is listed.'),
});
const userParams = z.object({ id: z.uuid().describe('The user id.') });
// The factor names of the one vocabulary: the same names the flows lock under.
const unlockBody = z.object({ factor: z.enum(FACTOR_NAMES).optional().describe('Unlock only this factor (default: every factor).') }).strict();

const timestamp = z.iso.datetime();
const failedAttempt = z.object({
  id: z.string(),
  at: timestamp,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  userId: z.string().nullable(),
  factor: z.string(),
  reason: z.string(),
  scores: z.record(z.string(), z.number()).nullable(),
});
const lockedFactor = z.object({ userId: z.string(), factor: z.string(), failures: z.number().int(), lockedUntil: timestamp.nullable(), disabled: z.boolean() });
const chainVerdict = z.union([
  z.object({ ok: z.literal(true), rows: z.number().int() }),
  z.object({ ok: z.literal(false), rows: z.number().int(), firstBrokenId: z.string(), reason: z.string() }),
]);

const AUTH_PROBLEMS = {
  401: 'No admin access token, or one that is expired, of another tenant, for another audience or revoked (code invalid_token; WWW-Authenticate: Bearer).',
  403: "The token lacks this route's scope (code insufficient_scope), or the console user's role may not call it (role_forbidden) or needs a fresh step-up (step_up_required).",
  404: 'No such user.',
  429: 'Too many admin API requests from this address (Retry-After).',
  503: 'The database is briefly unavailable (Retry-After).',
} as const;
const INPUT_PROBLEMS = { 400: 'Invalid parameters (code invalid_parameters), or a body that is not JSON (invalid_json).', 413: 'The body is over 16 KiB.', 415: 'The body is not JSON.' } as const;

export const ADMIN_API_BASE = '/admin/api';

/** The admin API's routes, declared (paths relative to /t/<slug>/admin/api). */
export const ADMIN_ROUTES = {
  failedAttempts: {
    method: 'get',
    path: '/failed-attempts',
    operationId: 'listFailedAttempts',
    summary: 'Failed sign-in and factor attempts in a window, newest first',
    tags: ['security'],
    query: windowQuery.pick({ hours: true, limit: true }),
    responses: { 200: { description: 'The attempts.', schema: z.object({ hours: z.number().int(), attempts: z.array(failedAttempt) }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS },
  },
  suspicious: {
    method: 'get',
    path: '/suspicious',
    operationId: 'suspiciousActivity',
    summary: 'Addresses and accounts with many failures in a window',
    tags: ['security'],
    query: windowQuery.pick({ hours: true, threshold: true }),
    responses: {
      200: {
        description: 'Addresses (and how many accounts they tried) and accounts (and from how many addresses), at or above the threshold.',
        schema: z.object({
          hours: z.number().int(),
          threshold: z.number().int(),
          ips: z.array(z.object({ ip: z.string(), failures: z.number().int(), accounts: z.number().int() })),
          accounts: z.array(z.object({ userId: z.string(), failures: z.number().int(), ips: z.number().int() })),
        }),
      },
    },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS },
  },
  locked: {
    method: 'get',
    path: '/locked',
    operationId: 'listLockedFactors',
    summary: 'Factors locked now or disabled, by user',
    tags: ['security'],
    responses: { 200: { description: 'The locked factors.', schema: z.object({ locked: z.array(lockedFactor) }) } },
    problems: AUTH_PROBLEMS,
  },
  auditVerify: {
    method: 'get',
    path: '/audit/verify',
    operationId: 'verifyAuditChain',
    summary: "Verify the tenant's audit hash chain",
    tags: ['audit'],
    responses: { 200: { description: 'Whether the chain holds, and where it first breaks.', schema: chainVerdict } },
    problems: AUTH_PROBLEMS,
  },
  unlock: {
    method: 'post',
    path: '/users/:id/unlock',
    operationId: 'unlockUser',
    summary: "Clear a user's factor lockouts (audited)",
    tags: ['users'],
    params: userParams,
    body: unlockBody,
    responses: { 200: { description: 'The factors that were locked and are now unlocked.', schema: z.object({ unlocked: z.array(z.string()) }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS },
  },
  signOut: {
    method: 'post',
    path: '/users/:id/sign-out',
    operationId: 'signOutUserEverywhere',
    summary: "End every session, grant and refresh-token family of a user (audited; relying parties get back-channel logout)",
    tags: ['users'],
    params: userParams,
    responses: {
      200: {
        description: 'What was ended.',
        schema: z.object({ families_ended: z.number().int(), sessions: z.number().int(), records: z.number().int() }),
      },
    },
    problems: { 400: INPUT_PROBLEMS[400], ...AUTH_PROBLEMS },
  },
  deleteUser: {
    method: 'delete',
    path: '/users/:id',
    operationId: 'deleteUser',
    summary: 'Soft-delete a user: signed out everywhere, erased after the retention period unless restored',
    tags: ['users'],
    params: userParams,
    responses: { 204: { description: 'Deleted.' } },
    problems: { 400: INPUT_PROBLEMS[400], ...AUTH_PROBLEMS },
  },
  restoreUser: {
    method: 'post',
    path: '/users/:id/restore',
    operationId: 'restoreUser',
    summary: 'Restore a soft-deleted user (not their sessions)',
    tags: ['users'],
    params: userParams,
    responses: { 204: { description: 'Restored.' } },
    problems: { 400: INPUT_PROBLEMS[400], ...AUTH_PROBLEMS },
  },
  openapi: {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This API described as OpenAPI 3.1 (built from the route declarations)',
    tags: ['meta'],
    public: true,
    responses: { 200: { description: 'The OpenAPI document.', schema: z.object({ openapi: z.literal('3.1.0') }).loose() } },
    problems: { 429: AUTH_PROBLEMS[429] },
  },
} satisfies Record<string, RouteSpec>;

/** The OpenAPI 3.1 document of the admin API of the tenant whose API lives at `serverUrl`. */
export function adminApiDocument(serverUrl: string) {
  const document = openApiDocument({
    title: 'Facet admin API',
    version: '1',
    description:
      'Per-tenant administration: security activity, lockouts, account actions. Errors are RFC 9457 problem+json with a stable `code`; 429 and 503 carry Retry-After.',
    serverUrl,
    routes: ALL_ADMIN_ROUTES(),
    bearer: {
      name: 'adminToken',
      description:
        "An access token (JWT) of this tenant for the admin resource `<issuer>/admin/api`, from client_credentials by a client holding admin scopes (tenant file: admin_scopes). Each operation names the scope it needs (x-facet-scope): admin:read for reads, admin:write for writes, audit:read for the audit routes.",
    },
  });
  // Each operation names the admin scope a machine's token needs (OpenAPI 3.1 allows role names
  // in a non-OAuth security requirement).
  const paths = document.paths as Record<string, Record<string, { security?: unknown }>>;
  for (const spec of ALL_ADMIN_ROUTES()) {
    if (spec.public) continue;
    const operation = paths[spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[spec.method];
    if (operation) operation.security = [{ adminToken: [scopeFor(`${spec.method.toUpperCase()} ${spec.path}`)] }];
  }
  return document;
}

const ALL_ADMIN_ROUTES = () =>
  [...Object.values(ADMIN_ROUTES), ...Object.values(USER_ROUTES), ...Object.values(KEY_ROUTES), ...Object.values(CLIENT_ROUTES), ...Object.values(POLICY_ROUTES), ...Object.values(BRANDING_ROUTES), ...Object.values(OVERVIEW_ROUTES), ...Object.values(AUDIT_ROUTES)] as RouteSpec[];

// ---------------------------------------------------------------------------------------------
// Handlers.

export function registerAdminApi(router: Router, { config, db, services }: { config: Config; db: RootDb; services: Services }): void {
  const tenantOf = (ctx: Context) => (ctx.state.tenant as TenantRuntime).tenant;
  const limited = rateLimit(services.limits, 'admin.ip', (ctx) => clientIp(ctx, { trustProxy: config.trustProxy }));
  // Per administrator too (the token's or the console user's actor), once they are known.
  const perAdmin = rateLimit(services.limits, 'admin.account', (ctx) => ctx.state.adminActor as string | undefined);
  const guard = [limited, requireAdminAuth(config), perAdmin];
  const base = ADMIN_API_BASE;
  const options = {
    // In development and tests every reply is checked against its declaration.
    checkResponses: !config.production,
  };
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`${base}${spec.path}`, ...(spec.public ? [limited] : guard), handle);

  const withUser = async <T>(ctx: Context, id: string, work: (trx: Parameters<Parameters<typeof withTenant>[2]>[0]) => Promise<T>, { live = true } = {}) =>
    withTenant(db, tenantOf(ctx), async (trx) => {
      if (live && !(await findLiveUserById(trx, id))) throw notFound(`no user ${id} in this tenant`);
      return work(trx);
    });
  // Relying parties with a backchannel_logout_uri hear of the sessions ended here, once the
  // transaction that ended them has committed.
  const notifyRelyingParties = (ctx: Context, targets: LogoutTarget[]) =>
    sendBackchannelLogouts((ctx.state.tenant as TenantRuntime).provider, targets, (err, target) =>
      (ctx.state.log as { warn?: (o: object, m: string) => void } | undefined)?.warn?.({ err, clientId: target.clientId }, 'back-channel logout not delivered'),
    );

  mount(
    route(
      ADMIN_ROUTES.failedAttempts,
      async (ctx, { query: { hours, limit } }) => ({
        status: 200,
        body: { hours, attempts: await withTenant(db, tenantOf(ctx), (trx) => recentFailedAttempts(trx, { hours, limit })) },
      }),
      options,
    ),
  );
  mount(
    route(
      ADMIN_ROUTES.suspicious,
      async (ctx, { query: { hours, threshold } }) => ({
        status: 200,
        body: { hours, threshold, ...(await withTenant(db, tenantOf(ctx), (trx) => suspiciousActivity(trx, { hours, threshold }))) },
      }),
      options,
    ),
  );
  mount(route(ADMIN_ROUTES.locked, async (ctx) => ({ status: 200, body: { locked: await withTenant(db, tenantOf(ctx), (trx) => lockedAccounts(trx)) } }), options));
  mount(route(ADMIN_ROUTES.auditVerify, async (ctx) => ({ status: 200, body: await withTenant(db, tenantOf(ctx), (trx) => verifyAuditChain(trx)) }), options));
  registerAuditApi(router, { config, db, services, guard, checkResponses: options.checkResponses });
  registerUsersApi(router, { config, db, guard, checkResponses: options.checkResponses });
  registerKeysApi(router, { config, db, guard, checkResponses: options.checkResponses });
  registerClientsApi(router, { config, db, guard, checkResponses: options.checkResponses });
  registerPoliciesApi(router, { config, db, guard, checkResponses: options.checkResponses });
  registerBrandingApi(router, { config, db, guard, checkResponses: options.checkResponses });
  registerOverviewApi(router, { db, guard, checkResponses: options.checkResponses });

  mount(
    route(
      ADMIN_ROUTES.unlock,
      async (ctx, { params: { id }, body: { factor } }) => {
        const events = await withUser(ctx, id, async (trx) => {
          const unlocked = await unlock(trx, { userId: id, ...(factor ? { factor } : {}), actor: ctx.state.adminActor });
          for (const event of unlocked) await appendAudit(trx, { ...event, actor: ctx.state.adminActor });
          return unlocked;
        });
        return { status: 200, body: { unlocked: events.map((e) => e.data.factor) } };
      },
      options,
    ),
  );
  mount(
    route(
      ADMIN_ROUTES.signOut,
      async (ctx, { params: { id } }) => {
        const { body, targets } = await withUser(ctx, id, async (trx) => {
          const targets = await backchannelTargetsOf(trx, id);
          const families = await endFamiliesForAccount(trx, id, 'admin_revoked');
          const revoked = await revokeSessionsAndGrants(trx, id);
          await appendAudit(trx, { type: 'account.signed_out_everywhere', actor: ctx.state.adminActor, subject: id, data: { families_ended: families, ...revoked } });
          return { body: { families_ended: families, ...revoked }, targets };
        });
        await notifyRelyingParties(ctx, targets);
        return { status: 200, body };
      },
      options,
    ),
  );
  mount(
    route(
      ADMIN_ROUTES.deleteUser,
      async (ctx, { params: { id } }) => {
        const targets = await withUser(ctx, id, async (trx) => {
          const targets = await backchannelTargetsOf(trx, id);
          await softDeleteAccount(trx, id, new Date(), { actor: ctx.state.adminActor });
          return targets;
        });
        await notifyRelyingParties(ctx, targets);
        return { status: 204 };
      },
      options,
    ),
  );
  mount(
    route(
      ADMIN_ROUTES.restoreUser,
      async (ctx, { params: { id } }) => {
        const restored = await withUser(ctx, id, (trx) => restoreAccount(trx, id, { actor: ctx.state.adminActor }), { live: false });
        if (!restored) throw notFound('no deleted user with that id');
        return { status: 204 };
      },
      options,
    ),
  );
  mount(
    route(
      ADMIN_ROUTES.openapi,
      async (ctx) => {
        const runtime = ctx.state.tenant as TenantRuntime;
        return { status: 200, body: adminApiDocument(`${config.publicUrl}${runtime.basePath}${base}`) };
      },
      options,
    ),
  );
}
