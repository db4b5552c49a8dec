// What a session has proven and what an account could prove: the inputs of evaluateStepUp.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';
import type { Factor } from './factors.ts';
import type { SessionFactor } from './evaluate-step-up.ts';

/** amr values back to the factor that produced them (RFC 8176 values as Facet issues them). */
const FACTOR_OF_AMR: Record<string, Factor> = { hwk: 'passkey', swk: 'passkey', otp: 'otp', sc: 'nfc', face: 'face' };

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
 * The factors a session has completed, with their times. Sessions whose factors were all proven
 * in the interaction that created them have no rows yet: their amr and login time stand in.
 */
export async function sessionFactors(
  trx: TenantDb,
  { sessionUid, userId, loginTs, amr = [] }: { sessionUid: string; userId: string; loginTs?: number; amr?: string[] },
): Promise<SessionFactor[]> {
  const rows = await trx.selectFrom('session_factors').selectAll().where('session_uid', '=', sessionUid).where('user_id', '=', userId).execute();
  const recorded: SessionFactor[] = rows.map((row) => ({ factor: row.factor as Factor, at: Math.floor(new Date(row.at).getTime() / 1000), amr: row.amr as string[] }));
  if (loginTs === undefined) return recorded;
  const seen = new Set(recorded.map((f) => f.factor));
  const implied = new Map<Factor, string[]>();
  for (const value of amr) {
    const factor = FACTOR_OF_AMR[value];
    if (factor && !seen.has(factor)) implied.set(factor, [...(implied.get(factor) ?? []), value]);
  }
  if (implied.has('passkey') && amr.includes('user')) implied.get('passkey')!.push('user');
  return [...recorded, ...[...implied].map(([factor, values]) => ({ factor, at: loginTs, amr: values }))];
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
