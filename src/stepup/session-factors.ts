// What a session has proven and what an account could prove: the inputs of evaluateStepUp.
// (Reads and writes tables: the one impure corner of stepup/, kept apart from the pure policy.)
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';
import type { Factor } from './factors.ts';
import { isFactorName } from '../factors/names.ts';
import type { SessionFactor } from './evaluate-step-up.ts';

export async function recordSessionFactor(
  trx: TenantDb,
  { sessionUid, userId, factor, at, amr }: { sessionUid: string; userId: string; factor: Factor; at: Date; amr: string[] },
): Promise<void> {
  await trx
    .insertInto('session_factors')
    .values({ session_uid: sessionUid, user_id: userId, factor, at, amr: JSON.stringify(amr) })
    .onConflict((oc) => oc.columns(['session_uid', 'factor']).doUpdateSet({ at, amr: JSON.stringify(amr), user_id: userId }))
    .execute();
}

/**
 * The factors a session has completed, with their times: only what was recorded when each was
 * proven (never inferred back from amr, which cannot tell an app code from a recovery code).
 * OIDC sessions are keyed by their uid, account-page sessions by `account:<id hash>`.
 */
export async function sessionFactors(trx: TenantDb, { sessionUid, userId }: { sessionUid: string; userId: string }): Promise<SessionFactor[]> {
  const rows = await trx.selectFrom('session_factors').selectAll().where('session_uid', '=', sessionUid).where('user_id', '=', userId).execute();
  return rows
    .filter((row) => isFactorName(row.factor))
    .map((row) => ({ factor: row.factor as Factor, at: Math.floor(new Date(row.at).getTime() / 1000), amr: row.amr as string[] }));
}

/** Forgets what a session proved (the session was ended). */
export async function forgetSessionFactors(trx: TenantDb, { sessionUid, userId }: { sessionUid: string; userId: string }): Promise<void> {
  await trx.deleteFrom('session_factors').where('session_uid', '=', sessionUid).where('user_id', '=', userId).execute();
}

/** The factors an account has enrolled and could complete now. */
export async function enrolledFactors(trx: TenantDb, userId: string): Promise<Set<Factor>> {
  const { rows } = await sql<{ passkey: boolean; otp: boolean; nfc: boolean; face: boolean; recovery: boolean }>`
    select
      exists (select 1 from webauthn_credentials where user_id = ${userId}) as passkey,
      exists (select 1 from totp_factors where user_id = ${userId} and confirmed_at is not null) as otp,
      exists (select 1 from nfc_cards where user_id = ${userId}) as nfc,
      exists (select 1 from face_templates where user_id = ${userId}) as face,
      exists (select 1 from recovery_codes where user_id = ${userId} and used_at is null) as recovery`.execute(trx);
  const row = rows[0]!;
  const factors = new Set<Factor>();
  if (row.passkey) factors.add('passkey');
  if (row.otp) factors.add('otp');
  if (row.nfc) factors.add('nfc');
  if (row.face) factors.add('face');
  if (row.recovery) factors.add('recovery_code');
  return factors;
}
