// Tenant admin roles (issue 12), held by ordinary users of the tenant: `admin` (everything),
// `helpdesk` (users: view, lock/unlock, sign out, reset a factor, invite) and `auditor` (read
// only). Granted by the tenant file (`admins:`, kept in step on every apply), the CLI, the console
// or a role-carrying invite; every grant and revoke is an audit event. What each role may call is
// in permissions.ts.
import { sql } from 'kysely';
import { z } from 'zod';
import type { TenantDb } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { liveUsers, type User } from '../accounts/users.ts';
import { ADMIN_ROLES, fileAdminSchema, type TenantFile } from '../tenancy/tenant-file.ts';

export { fileAdminSchema };

export const ROLES = ADMIN_ROLES;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);
export const GRANT_SOURCES = ['file', 'cli', 'console', 'invite'] as const;
export type GrantSource = (typeof GRANT_SOURCES)[number];

export interface RoleGrant {
  userId: string;
  username: string;
  email: string | null;
  role: Role;
  source: GrantSource;
  grantedBy: string | null;
  grantedAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A live user by id, username or email (case-insensitive); undefined when none or ambiguous. */
export async function findUserByHandle(trx: TenantDb, handle: string): Promise<User | undefined> {
  const value = handle.trim();
  if (!value) return undefined;
  if (UUID.test(value)) {
    const byId = await liveUsers(trx).selectAll().where('id', '=', value).executeTakeFirst();
    if (byId) return byId as User;
  }
  const lower = value.toLowerCase();
  const rows = await liveUsers(trx)
    .selectAll()
    .where((eb) => eb.or([eb(eb.fn('lower', ['username']), '=', lower), eb(eb.fn('lower', ['email']), '=', lower)]))
    .limit(2)
    .execute();
  // A username that is somebody else's email address: prefer the username.
  if (rows.length === 2) return (rows.find((r) => r.username.toLowerCase() === lower) as User | undefined) ?? undefined;
  return rows[0] as User | undefined;
}

export async function rolesOf(trx: TenantDb, userId: string): Promise<Role[]> {
  const rows = await trx.selectFrom('admin_roles').select('role').where('user_id', '=', userId).orderBy('role').execute();
  // `operator` is the platform console's (src/console/operator-routes.ts), not a tenant console role.
  return rows.map((r) => r.role as Role).filter((role) => (ROLES as readonly string[]).includes(role));
}

/** The platform operator role, held in the operator tenant (FACET_OPERATOR_TENANT); grants nothing elsewhere. */
export const OPERATOR_ROLE = 'operator';

export async function isOperator(trx: TenantDb, userId: string): Promise<boolean> {
  const row = await trx.selectFrom('admin_roles').select('role').where('user_id', '=', userId).where('role', '=', OPERATOR_ROLE).executeTakeFirst();
  return row !== undefined;
}

/** Grants the operator role (audited); false when already held. */
export async function grantOperator(trx: TenantDb, { userId, source, actor }: { userId: string; source: GrantSource; actor: string }): Promise<boolean> {
  return grantRole(trx, { userId, role: OPERATOR_ROLE as Role, source, actor });
}

export async function listRoleGrants(trx: TenantDb): Promise<RoleGrant[]> {
  const rows = await trx
    .selectFrom('admin_roles')
    .innerJoin('users', 'users.id', 'admin_roles.user_id')
    .where('users.deleted_at', 'is', null)
    .select(['admin_roles.user_id', 'users.username', 'users.email', 'admin_roles.role', 'admin_roles.source', 'admin_roles.granted_by', 'admin_roles.granted_at'])
    .orderBy('users.username')
    .orderBy('admin_roles.role')
    .execute();
  return rows.map((r) => ({
    userId: r.user_id,
    username: r.username,
    email: r.email,
    role: r.role as Role,
    source: r.source as GrantSource,
    grantedBy: r.granted_by,
    grantedAt: new Date(r.granted_at),
  }));
}

/** Grants a role (audited). False when the user already held it (nothing changes, no event). */
export async function grantRole(trx: TenantDb, { userId, role, source, actor }: { userId: string; role: Role; source: GrantSource; actor: string }): Promise<boolean> {
  const inserted = await trx
    .insertInto('admin_roles')
    .values({ user_id: userId, role, source, granted_by: actor })
    .onConflict((oc) => oc.columns(['user_id', 'role']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
  await appendAudit(trx, { type: 'admin.role_granted', actor, subject: userId, data: { role, source } });
  return true;
}

/** Revokes a role (audited). False when the user did not hold it. */
export async function revokeRole(trx: TenantDb, { userId, role, actor }: { userId: string; role: Role; actor: string }): Promise<boolean> {
  const deleted = await trx.deleteFrom('admin_roles').where('user_id', '=', userId).where('role', '=', role).returning('source').executeTakeFirst();
  if (!deleted) return false;
  await appendAudit(trx, { type: 'admin.role_revoked', actor, subject: userId, data: { role, source: deleted.source } });
  return true;
}

/** How many users hold `admin` (a tenant never loses its last admin through the console). */
export async function countAdmins(trx: TenantDb): Promise<number> {
  const row = await trx
    .selectFrom('admin_roles')
    .innerJoin('users', 'users.id', 'admin_roles.user_id')
    .where('users.deleted_at', 'is', null)
    .where('admin_roles.role', '=', 'admin')
    .select(sql<string>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export type FileAdmin = TenantFile['admins'][number];

export interface FileAdminsReport {
  granted: string[];
  revoked: string[];
  /** Entries naming nobody yet: granted when that user exists (next apply, or their console sign-in). */
  pending: string[];
}

/**
 * Makes the grants that came from the tenant file match its `admins:` list: grants what it
 * declares for users who exist, revokes file grants it no longer declares. Grants made elsewhere
 * (CLI, console, invite) are left alone.
 */
export async function syncFileAdmins(trx: TenantDb, admins: FileAdmin[], { actor = 'tenant-file' }: { actor?: string } = {}): Promise<FileAdminsReport> {
  const report: FileAdminsReport = { granted: [], revoked: [], pending: [] };
  const wanted = new Set<string>();
  for (const entry of admins) {
    const user = await findUserByHandle(trx, entry.user);
    if (!user) {
      report.pending.push(`${entry.user} (${entry.role})`);
      continue;
    }
    wanted.add(`${user.id}|${entry.role}`);
    if (await grantRole(trx, { userId: user.id, role: entry.role, source: 'file', actor })) report.granted.push(`${user.username} (${entry.role})`);
  }
  const fromFile = await trx.selectFrom('admin_roles').select(['user_id', 'role']).where('source', '=', 'file').execute();
  for (const row of fromFile) {
    if (wanted.has(`${row.user_id}|${row.role}`)) continue;
    await revokeRole(trx, { userId: row.user_id, role: row.role as Role, actor });
    report.revoked.push(`${row.user_id} (${row.role})`);
  }
  return report;
}
