// What each tenant admin role may call in the admin API, and which calls are sensitive (they need
// a recent step-up to the tenant's admin acr). Decided per route: method + the route's declared
// path relative to /admin/api (koa-router's matched layer), so a new route is admin-only (and an
// unknown write is sensitive) until it is listed here — deny by default.
import type { Role } from './roles.ts';

export type RouteKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} ${string}`;

/** helpdesk: users (view, lock/unlock, sign out, reset a factor, invite) and the security views that explain a lockout. */
const HELPDESK: ReadonlySet<string> = new Set<RouteKey>([
  'GET /users',
  'GET /users/:id',
  'POST /users/:id/lock',
  'POST /users/:id/unlock',
  'POST /users/:id/unlock-account',
  'POST /users/:id/sign-out',
  'POST /users/:id/reset-factor',
  'POST /invites',
  'GET /failed-attempts',
  'GET /suspicious',
  'GET /locked',
  'GET /me',
]);

/** Writes an auditor may make besides reading: requesting audit exports (issue 13). */
const AUDITOR_WRITES: ReadonlySet<string> = new Set<RouteKey>(['POST /audit/exports']);

/**
 * Sensitive actions: key rotation, client secret rotation, deleting or restoring a user, changing
 * a policy or a role, exports. Listed by route; any write not listed as ordinary (below) is
 * treated as sensitive too.
 */
const SENSITIVE: ReadonlySet<string> = new Set<RouteKey>([
  'DELETE /users/:id',
  'POST /users/:id/restore',
  'PUT /roles/:userId/:role',
  'DELETE /roles/:userId/:role',
  'POST /keys/rotate',
  'POST /keys/:kid/retire',
  'POST /clients/:id/secret',
  'PUT /policies',
  'POST /audit/exports',
]);

/** Writes that are not sensitive (they need only a passkey sign-in). */
const ORDINARY_WRITES: ReadonlySet<string> = new Set<RouteKey>([
  'PATCH /users/:id',
  'POST /users/:id/lock',
  'POST /users/:id/unlock',
  'POST /users/:id/unlock-account',
  'POST /users/:id/sign-out',
  'POST /users/:id/reset-factor',
  'POST /invites',
]);

export function routeKey(method: string, matchedRoute: string | undefined): string {
  const path = matchedRoute ?? '';
  const at = path.indexOf('/admin/api');
  return `${method.toUpperCase()} ${at >= 0 ? path.slice(at + '/admin/api'.length) || '/' : path}`;
}

const isRead = (key: string) => key.startsWith('GET ') || key.startsWith('HEAD ');

/** Whether any of `roles` may call the route. */
export function mayCall(roles: readonly Role[], key: string): boolean {
  if (roles.includes('admin')) return true;
  if (roles.includes('helpdesk') && HELPDESK.has(key)) return true;
  if (roles.includes('auditor') && (isRead(key) || AUDITOR_WRITES.has(key))) return true;
  return false;
}

/**
 * The admin scope a machine's access token needs for a route (src/admin/auth.ts): the audit
 * routes (reading the trail, verifying it, exports) need audit:read; other reads admin:read;
 * every other write admin:write. Deny by default holds: an unknown write needs admin:write.
 */
export function scopeFor(key: string): 'admin:read' | 'admin:write' | 'audit:read' {
  const path = key.slice(key.indexOf(' ') + 1);
  if (path === '/audit' || path.startsWith('/audit/')) return 'audit:read';
  return isRead(key) ? 'admin:read' : 'admin:write';
}

export function isSensitive(key: string): boolean {
  if (isRead(key)) return false;
  return SENSITIVE.has(key) || !ORDINARY_WRITES.has(key);
}

/** The routes a role may call, for the console to show or hide actions (and for docs). */
export const ROLE_SUMMARY: Record<Role, string> = {
  admin: 'everything',
  helpdesk: 'users: view, search, lock/unlock, sign out, reset a factor, invite; the failed-attempt, suspicious-activity and lockout views',
  auditor: 'read-only: every GET of the admin API, plus requesting audit exports',
};
