// Console role grants (table admin_roles) of many users at once, for the admin API's user search.
// Granting, revoking and one user's roles: src/admin/roles.ts.
import type { TenantDb } from '../tenant-scope.ts';

/** The roles held by each of `userIds` (sorted by name); users without a role are absent. */
export async function rolesByUser(trx: TenantDb, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const roles = new Map<string, string[]>();
  if (userIds.length === 0) return roles;
  for (const r of await trx.selectFrom('admin_roles').select(['user_id', 'role']).where('user_id', 'in', userIds).orderBy('role').execute()) {
    roles.set(r.user_id, [...(roles.get(r.user_id) ?? []), r.role]);
  }
  return roles;
}
