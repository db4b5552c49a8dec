// What deleting or restoring an account means beyond the users row: sessions and grants (and
// every token issued under those grants) are revoked at once; passkeys stop working because
// sign-in only looks at live users. Restoring brings the account and its passkeys back, not the
// revoked sessions.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';
import { restoreUser, softDeleteUser } from './users.ts';
import { forgetConsents } from './consents.ts';

/**
 * Revokes every oidc-provider record of the user (sessions, grants, codes, tokens, interactions:
 * all carry accountId in their payload), every record issued under one of their grants, and the
 * account-page sessions; and the consent remembered for clients.
 */
export async function revokeSessionsAndGrants(trx: TenantDb, userId: string): Promise<{ sessions: number; records: number }> {
  const grantIds = (
    await trx
      .selectFrom('oidc_records')
      .select('grant_id')
      .distinct()
      .where('grant_id', 'is not', null)
      .where(sql`payload->>'accountId'`, '=', userId)
      .execute()
  ).map((r) => r.grant_id as string);
  const sessions = await trx.deleteFrom('oidc_records').where('kind', '=', 'Session').where(sql`payload->>'accountId'`, '=', userId).executeTakeFirst();
  const records = await trx
    .deleteFrom('oidc_records')
    .where((eb) => eb.or([eb(sql`payload->>'accountId'`, '=', userId), ...(grantIds.length > 0 ? [eb('grant_id', 'in', grantIds)] : [])]))
    .executeTakeFirst();
  await trx.deleteFrom('account_sessions').where('user_id', '=', userId).execute();
  await trx.deleteFrom('pending_logins').where('user_id', '=', userId).execute();
  await forgetConsents(trx, userId);
  return { sessions: Number(sessions.numDeletedRows), records: Number(records.numDeletedRows) };
}

export async function softDeleteAccount(trx: TenantDb, userId: string, at = new Date()): Promise<boolean> {
  const deleted = await softDeleteUser(trx, userId, at);
  if (deleted) await revokeSessionsAndGrants(trx, userId);
  return deleted;
}

export async function restoreAccount(trx: TenantDb, userId: string): Promise<boolean> {
  return restoreUser(trx, userId);
}
