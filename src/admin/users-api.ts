// The admin API's users, invites and roles (issue 12), declared with the route guard so the
// OpenAPI document describes them: who am I (for the console), search users (server-side, cursor
// paged, sortable), one user's page (profile, factors, lockouts, connected apps, roles, recent
// security events), lock and unlock an account or one factor, reset a factor, invite (optionally
// with a role), and the role grants. Which role may call what: src/admin/permissions.ts.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant, type TenantDb } from '../db/tenant-scope.ts';
import { HttpError, notFound } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { emailTakenByAnother, findLiveUserById, lockAccount, searchUserDirectory, unlockAccount, updateUserProfile, userProfile } from '../accounts/users.ts';
import { userDetailOf } from '../accounts/user-detail.ts';
import { discardUnusedRecoveryCodes } from '../accounts/recovery-codes.ts';
import { rolesByUser } from '../db/queries/admin-roles.ts';
import { removeTotpOf } from '../factors/totp/store.ts';
import { removeCardsOf } from '../factors/nfc/store.ts';
import { createInvite } from '../accounts/invites.ts';
import { revokeSessionsAndGrants } from '../accounts/lifecycle.ts';
import { endFamiliesForAccount } from '../oidc/refresh/families.ts';
import { disableFactor, unlock } from '../lockout/index.ts';
import { FACTOR_NAMES } from '../factors/names.ts';
import { deleteTemplatesForUser } from '../face/templates/store.ts';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';
import { closeConsoleSessionsOf } from '../console/sessions.ts';
import { stepUpState, type ConsolePrincipal } from '../console/principal.ts';
import { countAdmins, grantRole, listRoleGrants, revokeRole, rolesOf, roleSchema, ROLES } from './roles.ts';
import { ROLE_SUMMARY } from './permissions.ts';
import { CONSOLE_ROLES, inviteBody, profileBody } from './user-settings.ts';

type Db = Parameters<typeof withTenant>[0];

const timestamp = z.iso.datetime();
const userId = z.uuid().describe('The user id.');
const USER_SORTS = ['created_at', 'username'] as const;

export const userSearchQuery = z.object({
  q: z.string().trim().max(320).optional().describe('Matches the start of the username or email (case-insensitive), or an exact user id.'),
  status: z.enum(['live', 'deleted', 'all']).default('live').describe('live (default): not deleted; deleted: soft-deleted, restorable; all.'),
  sort: z.enum(USER_SORTS).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(400).optional().describe('The `next` cursor of the previous page (same sort and order).'),
});

const userSummary = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  status: z.string(),
  createdAt: timestamp,
  deletedAt: timestamp.nullable(),
  roles: z.array(z.string()),
});

const factorRow = z.object({ id: z.string(), name: z.string(), createdAt: timestamp, lastUsedAt: timestamp.nullable(), detail: z.string().nullable() });
const userDetail = z.object({
  user: userSummary.extend({ emailVerified: z.boolean() }),
  factors: z.object({
    passkeys: z.array(factorRow),
    otp: factorRow.nullable(),
    nfc: z.array(factorRow),
    face: z.array(factorRow),
    recoveryCodesLeft: z.number().int(),
  }),
  lockouts: z.array(z.object({ factor: z.string(), failures: z.number().int(), lockedUntil: timestamp.nullable(), disabled: z.boolean() })),
  connectedApps: z.array(z.object({ clientId: z.string(), families: z.number().int(), lastUsedAt: timestamp })),
  sessions: z.object({ account: z.number().int(), console: z.number().int() }),
  events: z.array(z.object({ id: z.string(), at: timestamp, type: z.string(), actor: z.string().nullable(), ip: z.string().nullable(), clientId: z.string().nullable() })),
});

export const lockBody = z
  .object({ factor: z.enum(FACTOR_NAMES).optional().describe('Disable only this factor until unlocked (default: lock the whole account and end its sessions).') })
  .strict();
export const RESETTABLE_FACTORS = ['otp', 'nfc', 'face', 'recovery_code'] as const;
export const resetBody = z.object({ factor: z.enum(RESETTABLE_FACTORS).describe('The factor to remove; the user enrols it again.') }).strict();
const roleParams = z.object({ userId, role: roleSchema });
export { inviteBody, profileBody };
// The console bundles its own list of roles (user-settings.ts): it must be the tenant file's.
const _sameRoles: readonly (typeof CONSOLE_ROLES)[number][] = ROLES satisfies readonly (typeof CONSOLE_ROLES)[number][];
void _sameRoles;

const AUTH_PROBLEMS = {
  401: 'No or a wrong admin bearer token, or no console session.',
  403: 'The console role may not call this route (role_forbidden), a sensitive route needs a fresh step-up (step_up_required, with `redirect`), or CSRF (csrf_failed).',
  404: 'No such user, or this tenant has no admin API token configured.',
  429: 'Too many admin API requests from this address (Retry-After).',
} as const;
const INPUT_PROBLEMS = { 400: 'Invalid parameters (invalid_parameters), or a body that is not JSON (invalid_json).', 413: 'The body is over 16 KiB.', 415: 'The body is not JSON.' } as const;

/** The routes of this file (paths relative to /t/<slug>/admin/api). */
export const USER_ROUTES = {
  me: {
    method: 'get',
    path: '/me',
    operationId: 'whoAmI',
    summary: 'Who is calling: the console user with roles and step-up state, or a machine client with its admin scopes',
    tags: ['console'],
    responses: {
      200: {
        description: 'The caller.',
        schema: z.object({
          kind: z.enum(['console', 'token']),
          user: z.object({ id: z.string(), username: z.string() }).nullable(),
          roles: z.array(z.string()),
          acr: z.string().nullable(),
          adminAcr: z.string(),
          stepUpFreshUntil: timestamp.nullable(),
          roleSummary: z.record(z.string(), z.string()),
          client: z.object({ clientId: z.string(), scopes: z.array(z.string()) }).optional().describe('A machine caller (kind token): its client and the admin scopes its token carries.'),
        }),
      },
    },
    problems: AUTH_PROBLEMS,
  },
  listUsers: {
    method: 'get',
    path: '/users',
    operationId: 'listUsers',
    summary: 'Search users (server-side, sorted, paged with a cursor)',
    tags: ['users'],
    query: userSearchQuery,
    responses: { 200: { description: 'A page of users; `next` is the cursor of the following page (null at the end).', schema: z.object({ users: z.array(userSummary), next: z.string().nullable() }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS },
  },
  getUser: {
    method: 'get',
    path: '/users/:id',
    operationId: 'getUser',
    summary: "A user's page: profile, factors, lockouts, connected apps, sessions, recent security events",
    tags: ['users'],
    params: z.object({ id: userId }),
    responses: { 200: { description: 'The user (also a soft-deleted one).', schema: userDetail } },
    problems: { 400: INPUT_PROBLEMS[400], ...AUTH_PROBLEMS },
  },
  editProfile: {
    method: 'patch',
    path: '/users/:id',
    operationId: 'editUserProfile',
    summary: "Change a user's display name or email address (audited)",
    tags: ['users'],
    params: z.object({ id: userId }),
    body: profileBody,
    bodyRequired: true,
    responses: { 200: { description: 'The profile now.', schema: z.object({ id: z.string(), username: z.string(), email: z.string().nullable(), emailVerified: z.boolean(), displayName: z.string().nullable() }) } },
    problems: { ...INPUT_PROBLEMS, 409: 'Another account has that email address (email_taken).', ...AUTH_PROBLEMS },
  },
  lockUser: {
    method: 'post',
    path: '/users/:id/lock',
    operationId: 'lockUser',
    summary: 'Lock a whole account (no sign-in; sessions and refresh tokens end) or disable one factor (audited)',
    tags: ['users'],
    params: z.object({ id: userId }),
    body: lockBody,
    responses: { 200: { description: 'What was locked.', schema: z.object({ locked: z.string(), families_ended: z.number().int() }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS },
  },
  unlockAccount: {
    method: 'post',
    path: '/users/:id/unlock-account',
    operationId: 'unlockAccount',
    summary: 'Unlock a locked account (factor lockouts: POST /users/{id}/unlock)',
    tags: ['users'],
    params: z.object({ id: userId }),
    responses: { 200: { description: 'Whether the account was locked.', schema: z.object({ unlocked: z.boolean() }) } },
    problems: { 400: INPUT_PROBLEMS[400], ...AUTH_PROBLEMS },
  },
  resetFactor: {
    method: 'post',
    path: '/users/:id/reset-factor',
    operationId: 'resetUserFactor',
    summary: 'Remove a factor (authenticator app, NFC cards, face, unused recovery codes); the user enrols it again (audited)',
    tags: ['users'],
    params: z.object({ id: userId }),
    body: resetBody,
    bodyRequired: true,
    responses: { 200: { description: 'How many were removed.', schema: z.object({ factor: z.string(), removed: z.number().int() }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS },
  },
  invite: {
    method: 'post',
    path: '/invites',
    operationId: 'inviteUser',
    summary: 'Create a signed, single-use sign-up link for an email address, optionally carrying a console role (audited; no mail is sent)',
    tags: ['users'],
    body: inviteBody,
    bodyRequired: true,
    responses: { 201: { description: 'The link.', schema: z.object({ url: z.string(), email: z.string(), role: z.string().nullable(), expiresAt: timestamp }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS },
  },
  listRoles: {
    method: 'get',
    path: '/roles',
    operationId: 'listRoleGrants',
    summary: 'Who holds which console role',
    tags: ['roles'],
    responses: {
      200: {
        description: 'The grants.',
        schema: z.object({
          roles: z.array(z.object({ userId: z.string(), username: z.string(), email: z.string().nullable(), role: z.string(), source: z.string(), grantedBy: z.string().nullable(), grantedAt: timestamp })),
          summary: z.record(z.string(), z.string()),
        }),
      },
    },
    problems: AUTH_PROBLEMS,
  },
  grantRole: {
    method: 'put',
    path: '/roles/:userId/:role',
    operationId: 'grantRole',
    summary: 'Grant a console role (sensitive: needs a fresh step-up; audited)',
    tags: ['roles'],
    params: roleParams,
    responses: { 200: { description: 'Granted (or already held).', schema: z.object({ granted: z.boolean(), roles: z.array(z.string()) }) } },
    problems: { 400: INPUT_PROBLEMS[400], ...AUTH_PROBLEMS },
  },
  revokeRole: {
    method: 'delete',
    path: '/roles/:userId/:role',
    operationId: 'revokeRole',
    summary: "Revoke a console role (sensitive; audited). The tenant's last admin cannot be revoked here.",
    tags: ['roles'],
    params: roleParams,
    responses: { 200: { description: 'Revoked (or not held).', schema: z.object({ revoked: z.boolean(), roles: z.array(z.string()) }) } },
    problems: { 400: INPUT_PROBLEMS[400], 409: 'That would leave the tenant without an admin (last_admin).', ...AUTH_PROBLEMS },
  },
} satisfies Record<string, RouteSpec>;

// ---------------------------------------------------------------------------------------------

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

interface Cursor {
  v: string;
  id: string;
}
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof value.v === 'string' && typeof value.id === 'string' && /^[0-9a-f-]{36}$/i.test(value.id)) return value;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'invalid_cursor', 'Invalid cursor', 'The `after` cursor is not one this API gave out.');
}

export async function searchUsers(trx: TenantDb, query: z.output<typeof userSearchQuery>) {
  const column = query.sort;
  let after: { value: Date | string; id: string } | undefined;
  if (query.after) {
    const cursor = decodeCursor(query.after);
    const value = column === 'created_at' ? new Date(cursor.v) : cursor.v;
    if (value instanceof Date && Number.isNaN(value.getTime())) throw new HttpError(400, 'invalid_cursor', 'Invalid cursor', 'The `after` cursor is not one this API gave out.');
    after = { value, id: cursor.id };
  }
  const rows = await searchUserDirectory(trx, { text: query.q, status: query.status, sort: column, order: query.order, limit: query.limit, after });
  const page = rows.slice(0, query.limit);
  const roles = await rolesByUser(trx, page.map((u) => u.id));
  const last = page.at(-1);
  return {
    users: page.map((u) => ({
      id: u.id,
      username: u.username,
      email: u.email,
      displayName: u.display_name,
      status: u.status,
      createdAt: iso(u.created_at)!,
      deletedAt: iso(u.deleted_at),
      roles: roles.get(u.id) ?? [],
    })),
    next: rows.length > query.limit && last ? encodeCursor({ v: column === 'created_at' ? new Date(last.created_at).toISOString() : last.username, id: last.id }) : null,
  };
}

export function registerUsersApi(router: Router, { config, db, guard, checkResponses }: { config: Config; db: Db; guard: Middleware[]; checkResponses: boolean }): void {
  const tenantOf = (ctx: Context) => (ctx.state.tenant as TenantRuntime).tenant;
  const actorOf = (ctx: Context) => String(ctx.state.adminActor ?? 'admin');
  const facts = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || null, requestId: (ctx.state.requestId as string | undefined) ?? null });
  const options = { checkResponses };
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`/admin/api${spec.path}`, ...guard, handle);
  const live = async (trx: TenantDb, id: string) => {
    const user = await findLiveUserById(trx, id);
    if (!user) throw notFound(`no user ${id} in this tenant`);
    return user;
  };

  mount(
    route(
      USER_ROUTES.me,
      async (ctx) => {
        const runtime = ctx.state.tenant as TenantRuntime;
        const principal = ctx.state.consolePrincipal as ConsolePrincipal | undefined;
        const state = principal ? stepUpState(principal, runtime.acrPolicy, runtime.tenant.settings) : stepUpState({ acr: '', authTime: 0 }, runtime.acrPolicy, runtime.tenant.settings);
        return {
          status: 200,
          body: {
            kind: principal ? ('console' as const) : ('token' as const),
            user: principal ? { id: principal.userId, username: principal.username } : null,
            // A machine holds no console role: what it may do is its token's scopes (src/admin/auth.ts).
            roles: principal ? principal.roles : [],
            acr: principal?.acr ?? null,
            adminAcr: state.adminAcr,
            stepUpFreshUntil: state.freshUntil === null ? null : new Date(state.freshUntil * 1000).toISOString(),
            roleSummary: ROLE_SUMMARY,
            ...(ctx.state.adminClient ? { client: ctx.state.adminClient as { clientId: string; scopes: string[] } } : {}),
          },
        };
      },
      options,
    ),
  );

  mount(route(USER_ROUTES.listUsers, async (ctx, { query }) => ({ status: 200, body: await withTenant(db, tenantOf(ctx), (trx) => searchUsers(trx, query)) }), options));

  mount(
    route(
      USER_ROUTES.getUser,
      async (ctx, { params: { id } }) => {
        const detail = await withTenant(db, tenantOf(ctx), async (trx) => userDetailOf(trx, id, await rolesOf(trx, id)));
        if (!detail) throw notFound(`no user ${id} in this tenant`);
        return { status: 200, body: detail };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.editProfile,
      async (ctx, { params: { id }, body }) => {
        const updated = await withTenant(db, tenantOf(ctx), async (trx) => {
          const user = await live(trx, id);
          const changes: { display_name?: string | null; email?: string; email_verified?: boolean } = {};
          if (body.displayName !== undefined && (body.displayName || null) !== user.display_name) changes.display_name = body.displayName || null;
          if (body.email !== undefined && body.email.toLowerCase() !== (user.email ?? '').toLowerCase()) {
            if (await emailTakenByAnother(trx, body.email, id)) {
              const detail = 'Another account of this tenant has that email address.';
              throw new HttpError(409, 'email_taken', 'Conflict', detail, { extensions: { errors: [{ in: 'body', pointer: '#/email', detail }] } });
            }
            changes.email = body.email;
            changes.email_verified = false;
          }
          if (Object.keys(changes).length > 0) {
            await updateUserProfile(trx, id, changes);
            await appendAudit(trx, { type: 'account.profile_changed', actor: actorOf(ctx), subject: id, ...facts(ctx), data: { fields: Object.keys(changes).filter((k) => k !== 'email_verified') } });
          }
          return userProfile(trx, id);
        });
        return { status: 200, body: { id: updated.id, username: updated.username, email: updated.email, emailVerified: updated.email_verified, displayName: updated.display_name } };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.lockUser,
      async (ctx, { params: { id }, body: { factor } }) => {
        const actor = actorOf(ctx);
        const result = await withTenant(db, tenantOf(ctx), async (trx) => {
          await live(trx, id);
          if (factor) {
            const { failures } = await disableFactor(trx, id, factor);
            await appendAudit(trx, { type: 'lockout.disabled', actor, subject: id, ...facts(ctx), data: { factor, failures } });
            return { locked: factor, families_ended: 0 };
          }
          await lockAccount(trx, id);
          const families = await endFamiliesForAccount(trx, id, 'admin_revoked');
          await revokeSessionsAndGrants(trx, id);
          await closeConsoleSessionsOf(trx, id);
          await appendAudit(trx, { type: 'account.locked', actor, subject: id, ...facts(ctx), data: { families_ended: families } });
          return { locked: 'account', families_ended: families };
        });
        return { status: 200, body: result };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.unlockAccount,
      async (ctx, { params: { id } }) => {
        const unlocked = await withTenant(db, tenantOf(ctx), async (trx) => {
          await live(trx, id);
          const changed = await unlockAccount(trx, id);
          if (changed) await appendAudit(trx, { type: 'account.unlocked', actor: actorOf(ctx), subject: id, ...facts(ctx), data: {} });
          return changed;
        });
        return { status: 200, body: { unlocked } };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.resetFactor,
      async (ctx, { params: { id }, body: { factor } }) => {
        const removed = await withTenant(db, tenantOf(ctx), async (trx) => {
          await live(trx, id);
          let count = 0;
          if (factor === 'otp') count = await removeTotpOf(trx, id);
          if (factor === 'nfc') count = await removeCardsOf(trx, id);
          if (factor === 'face') count = await deleteTemplatesForUser(trx as never, id);
          if (factor === 'recovery_code') count = await discardUnusedRecoveryCodes(trx, id);
          // A lock on the removed factor has nothing left to protect.
          await unlock(trx as never, { userId: id, factor, actor: actorOf(ctx) });
          await appendAudit(trx, { type: 'factor.reset', actor: actorOf(ctx), subject: id, ...facts(ctx), data: { factor, removed: count } });
          return count;
        });
        return { status: 200, body: { factor, removed } };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.invite,
      async (ctx, { body: { email, role } }) => {
        const tenant = tenantOf(ctx);
        const invite = await withTenant(db, tenant, async (trx) => {
          const created = await createInvite(trx, { slug: tenant.slug, email, key: config.cookieKeys[0]!, createdBy: actorOf(ctx), role: role ?? null });
          await appendAudit(trx, { type: 'invite.created', actor: actorOf(ctx), ...facts(ctx), data: { invite_id: created.id, email, expires_at: created.expiresAt.toISOString(), role: role ?? null } });
          return created;
        });
        return {
          status: 201,
          body: { url: inviteUrl(config, tenant.slug, invite.token), email, role: role ?? null, expiresAt: invite.expiresAt.toISOString() },
        };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.listRoles,
      async (ctx) => {
        const grants = await withTenant(db, tenantOf(ctx), (trx) => listRoleGrants(trx));
        return { status: 200, body: { roles: grants.map((g) => ({ ...g, grantedAt: g.grantedAt.toISOString() })), summary: ROLE_SUMMARY } };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.grantRole,
      async (ctx, { params: { userId: id, role } }) => {
        const body = await withTenant(db, tenantOf(ctx), async (trx) => {
          await live(trx, id);
          const granted = await grantRole(trx, { userId: id, role, source: ctx.state.consolePrincipal ? 'console' : 'cli', actor: actorOf(ctx) });
          return { granted, roles: await rolesOf(trx, id) };
        });
        return { status: 200, body };
      },
      options,
    ),
  );

  mount(
    route(
      USER_ROUTES.revokeRole,
      async (ctx, { params: { userId: id, role } }) => {
        const body = await withTenant(db, tenantOf(ctx), async (trx) => {
          await live(trx, id);
          const held = await rolesOf(trx, id);
          if (role === 'admin' && held.includes('admin') && (await countAdmins(trx)) <= 1) {
            throw new HttpError(409, 'last_admin', 'Conflict', 'This is the last admin of the tenant: grant admin to somebody else first.');
          }
          const revoked = await revokeRole(trx, { userId: id, role, actor: actorOf(ctx) });
          const roles = await rolesOf(trx, id);
          // Without any role, their console sessions end now.
          if (revoked && roles.length === 0) await closeConsoleSessionsOf(trx, id);
          return { revoked, roles };
        });
        return { status: 200, body };
      },
      options,
    ),
  );
}

export const inviteUrl = (config: Config, slug: string, token: string) => `${config.publicUrl}/t/${slug}/account/sign-in/signup?invite=${token}`;

export const ALL_ROLES = ROLES;
