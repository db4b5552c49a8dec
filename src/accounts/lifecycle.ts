// What deleting or restoring an account means beyond the users row: sessions and grants (and
// every token issued under those grants) are revoked at once; passkeys stop working because
// sign-in only looks at live users. Restoring brings the account and its passkeys back, not the
// revoked sessions.
import type { TenantDb } from '../db/tenant-scope.ts';
import { restoreUser, softDeleteUser } from './users.ts';
import { endFamiliesForAccount } from '../oidc/refresh/families.ts';
import { deleteTemplatesForUser } from '../face/templates/store.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { forgetConsents } from './consents.ts';
import { endSessionsAndGrantsOf } from '../oidc/records.ts';

/**
 * Revokes every oidc-provider record of the user and everything issued under their grants
 * (src/oidc/records.ts), the account-page sessions and what sessions proved, and the consent
 * remembered for clients.
 */
export async function revokeSessionsAndGrants(trx: TenantDb, userId: string): Promise<{ sessions: number; records: number }> {
  const ended = await endSessionsAndGrantsOf(trx, userId);
  await trx.deleteFrom('account_sessions').where('user_id', '=', userId).execute();
  await trx.deleteFrom('session_factors').where('user_id', '=', userId).execute();
  await trx.deleteFrom('pending_logins').where('user_id', '=', userId).execute();
  await forgetConsents(trx, userId);
  return ended;
}

/** "Sign out everywhere": refresh-token families ended, then every session, grant and token revoked. */
export async function signOutEverywhere(trx: TenantDb, userId: string, at = new Date()): Promise<{ families: number; sessions: number; records: number }> {
  // Families first, as for deletion: ending one also clears the session's pointer to its grant.
  const families = await endFamiliesForAccount(trx, userId, 'signed_out_everywhere', undefined, at);
  return { families, ...(await revokeSessionsAndGrants(trx, userId)) };
}

/**
 * Soft-deletes an account: sessions and grants revoked, refresh-token families ended, face
 * templates destroyed at once (biometric data is not kept for a possible restore), an audit event.
 */
export async function softDeleteAccount(trx: TenantDb, userId: string, at = new Date(), { actor = 'system' }: { actor?: string } = {}): Promise<boolean> {
  const deleted = await softDeleteUser(trx, userId, at);
  if (!deleted) return false;
  // Families first: ending one also clears the session's pointer to its grant.
  const families = await endFamiliesForAccount(trx, userId, 'user_deleted', undefined, at);
  await revokeSessionsAndGrants(trx, userId);
  const templates = await deleteTemplatesForUser(trx, userId);
  await appendAudit(trx, { type: 'account.deleted', actor, subject: userId, data: { families_ended: families, face_templates_destroyed: templates } });
  return true;
}

export async function restoreAccount(trx: TenantDb, userId: string, { actor = 'system' }: { actor?: string } = {}): Promise<boolean> {
  const restored = await restoreUser(trx, userId);
  if (restored) await appendAudit(trx, { type: 'account.restored', actor, subject: userId });
  return restored;
}
