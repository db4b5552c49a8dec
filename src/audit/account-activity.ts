// What the account page shows a person of their own audit trail: their recent sign-ins and the
// recent changes to how their account signs in. Read-only queries over audit_events by subject.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';

/** Events that are a sign-in (the page names the method). */
export const SIGN_IN_EVENTS = ['passkey.sign_in', 'recovery_code.used'] as const;

/** Events that change how the account signs in: the page's "security changes" list. */
export const SECURITY_CHANGE_EVENTS = [
  'passkey.registered',
  'passkey.removed',
  'factor.otp.enrolled',
  'factor.otp.removed',
  'factor.nfc.enrolled',
  'factor.nfc.removed',
  'factor.face.enrolled',
  'factor.face.deleted',
  'recovery_code.issued',
  'recovery_codes.issued', // the spelling before the event catalogue
  'account.signed_out_everywhere', // sessions ended (by the user or an administrator)
] as const;

export interface SignInRow {
  at: Date;
  ip: string | null;
  userAgent: string | null;
  type: (typeof SIGN_IN_EVENTS)[number];
  /** The flow it happened in (`interaction`, `account`), when recorded. */
  flow: string | null;
}

export interface SecurityChangeRow {
  at: Date;
  type: string;
  /** The factor whose fresh proof allowed the change, when it needed one. */
  proof: string | null;
}

/** A user's latest sign-ins, newest first. */
export async function recentSignIns(trx: TenantDb, userId: string, { limit = 10 }: { limit?: number } = {}): Promise<SignInRow[]> {
  const rows = await trx
    .selectFrom('audit_events')
    .select(['at', 'ip', 'user_agent', 'type', sql<string | null>`data->>'flow'`.as('flow')])
    .where('subject', '=', userId)
    .where('type', 'in', [...SIGN_IN_EVENTS])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    at: new Date(row.at),
    ip: row.ip,
    userAgent: row.user_agent,
    type: row.type as SignInRow['type'],
    flow: row.flow ?? null,
  }));
}

/** A user's latest changes to how they sign in, newest first. */
export async function recentSecurityChanges(trx: TenantDb, userId: string, { limit = 10 }: { limit?: number } = {}): Promise<SecurityChangeRow[]> {
  const rows = await trx
    .selectFrom('audit_events')
    .select(['at', 'type', sql<string | null>`data->'proof'->>'factor'`.as('proof')])
    .where('subject', '=', userId)
    .where('type', 'in', [...SECURITY_CHANGE_EVENTS])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ at: new Date(row.at), type: row.type, proof: row.proof ?? null }));
}
