// Expired sign-in state that nothing reads any more: WebAuthn challenges, pending flow steps and
// account-page sessions. Lookups already ignore expired rows; this only keeps the tables small.
// Meant for the periodic purge job, per tenant.
import type { TenantDb } from '../db/tenant-scope.ts';

export async function purgeExpiredSignInState(trx: TenantDb, now = new Date()): Promise<{ challenges: number; pending: number; accountSessions: number }> {
  const challenges = await trx.deleteFrom('webauthn_challenges').where('expires_at', '<', now).executeTakeFirst();
  const pending = await trx.deleteFrom('pending_logins').where('expires_at', '<', now).executeTakeFirst();
  const accountSessions = await trx.deleteFrom('account_sessions').where('expires_at', '<', now).executeTakeFirst();
  return {
    challenges: Number(challenges.numDeletedRows),
    pending: Number(pending.numDeletedRows),
    accountSessions: Number(accountSessions.numDeletedRows),
  };
}
