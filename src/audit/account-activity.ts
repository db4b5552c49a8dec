// What the account page shows a person of their own audit trail: their recent sign-ins and step-ups
// (which application, which factor proved it) and the recent changes to their account's security,
// their own and those an administrator or the lockout made. Read-only queries over audit_events
// by subject.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';
import type { FactorName } from '../factors/names.ts';
import type { AuditEventType } from './catalogue.ts';

/**
 * The events that prove a factor (a sign-in, a step-up or a fresh proof on the account page), with
 * the factor each proves. A login asking for passkey+otp writes two: the passkey, then the code.
 */
export const SIGN_IN_EVENTS = {
  'passkey.sign_in': 'passkey',
  'recovery_code.used': 'recovery_code',
  'factor.otp.verified': 'otp',
  'factor.nfc.verified': 'nfc',
  'factor.face.verified': 'face',
} as const satisfies Partial<Record<AuditEventType, FactorName>>;
export type SignInEventType = keyof typeof SIGN_IN_EVENTS;
const SIGN_IN_TYPES = Object.keys(SIGN_IN_EVENTS) as SignInEventType[];

/** Events that change the account's security: the page's "security changes" list. */
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
  'account.session_ended', // one session signed out from the account page
  'account.app_revoked', // one application's access revoked from the account page
  // What an administrator, or the lockout after failed attempts, did to the account.
  'account.locked',
  'account.unlocked',
  'factor.reset',
  'lockout.locked',
  'lockout.disabled',
  'lockout.unlocked',
] as const;

export interface SignInRow {
  at: Date;
  ip: string | null;
  userAgent: string | null;
  type: SignInEventType;
  /** The factor the event proved. */
  factor: FactorName;
  /** The amr values recorded with it (passkeys record theirs: hwk/swk, user), when recorded. */
  amr: string[] | null;
  /** The flow it happened in (`interaction`, `account`, `step-up`, `fresh-proof`), when recorded. */
  flow: string | null;
  /** The application the sign-in or step-up was for (none on the account page's own sign-in). */
  clientId: string | null;
}

/** Who made a security change: the user themselves, an administrator, or Facet itself (lockout). */
export type ChangeAuthor = 'user' | 'administrator' | 'system';

export interface SecurityChangeRow {
  at: Date;
  type: string;
  /** The factor whose fresh proof allowed the change, when it needed one. */
  proof: string | null;
  /** The factor a lockout or a reset concerns, when the event names one. */
  factor: string | null;
  /** The application concerned (a revoked app), when the event names one. */
  clientId: string | null;
  by: ChangeAuthor;
}

/** A user's latest sign-ins and step-ups, one row per factor proved, newest first. */
export async function recentSignIns(trx: TenantDb, userId: string, { limit = 10 }: { limit?: number } = {}): Promise<SignInRow[]> {
  const rows = await trx
    .selectFrom('audit_events')
    .select(['at', 'ip', 'user_agent', 'type', 'client_id', sql<string | null>`data->>'flow'`.as('flow'), sql<unknown>`data->'amr'`.as('amr')])
    .where('subject', '=', userId)
    .where('type', 'in', SIGN_IN_TYPES)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => {
    const type = row.type as SignInEventType;
    return {
      at: new Date(row.at),
      ip: row.ip,
      userAgent: row.user_agent,
      type,
      factor: SIGN_IN_EVENTS[type],
      amr: Array.isArray(row.amr) ? row.amr.filter((v): v is string => typeof v === 'string') : null,
      flow: row.flow ?? null,
      clientId: row.client_id ?? null,
    };
  });
}

/** A user's latest security changes, newest first, with who made each. */
export async function recentSecurityChanges(trx: TenantDb, userId: string, { limit = 10 }: { limit?: number } = {}): Promise<SecurityChangeRow[]> {
  const rows = await trx
    .selectFrom('audit_events')
    .select(['at', 'type', 'actor', 'client_id', sql<string | null>`data->'proof'->>'factor'`.as('proof'), sql<string | null>`data->>'factor'`.as('factor')])
    .where('subject', '=', userId)
    .where('type', 'in', [...SECURITY_CHANGE_EVENTS])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    at: new Date(row.at),
    type: row.type,
    proof: row.proof ?? null,
    factor: row.factor ?? null,
    clientId: row.client_id ?? null,
    by: row.actor === userId ? 'user' : row.actor === null ? 'system' : 'administrator',
  }));
}
