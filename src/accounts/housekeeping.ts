// Expired sign-in state that nothing reads any more: WebAuthn challenges, pending flow steps and
// account-page sessions. Lookups already ignore expired rows; this only keeps the tables small.
// Meant for the periodic purge job, per tenant.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';

export async function purgeExpiredSignInState(trx: TenantDb, now = new Date()): Promise<{ challenges: number; pending: number; accountSessions: number; sessionFactors: number }> {
  const challenges = await trx.deleteFrom('webauthn_challenges').where('expires_at', '<', now).executeTakeFirst();
  const pending = await trx.deleteFrom('pending_logins').where('expires_at', '<', now).executeTakeFirst();
  const accountSessions = await trx.deleteFrom('account_sessions').where('expires_at', '<', now).executeTakeFirst();
  // What a session proved outlives nothing: factors of account-page and OIDC sessions that are gone.
  const sessionFactors = await trx
    .deleteFrom('session_factors')
    .where(({ or, and, eb }) =>
      or([
        and([eb('session_uid', 'like', 'account:%'), sql<boolean>`not exists (select 1 from account_sessions a where 'account:' || a.id_hash = session_factors.session_uid)`]),
        and([eb('session_uid', 'not like', 'account:%'), sql<boolean>`not exists (select 1 from oidc_records r where r.kind = 'Session' and r.uid = session_factors.session_uid)`]),
      ]),
    )
    .executeTakeFirst();
  return {
    sessionFactors: Number(sessionFactors.numDeletedRows),
    challenges: Number(challenges.numDeletedRows),
    pending: Number(pending.numDeletedRows),
    accountSessions: Number(accountSessions.numDeletedRows),
  };
}
