// Where a sign-in or sign-up flow stands between two requests, kept server-side per binding
// (interaction uid or account-page flow) for fifteen minutes.
import type { TenantDb } from '../db/tenant-scope.ts';
import { PENDING_STEP_TTL_SECONDS } from '../config/defaults.ts';
import type { SessionFactor } from '../stepup/index.ts';

export interface CompletedLogin {
  userId: string;
  amr: string[];
  acr: string;
  /** Seconds since the epoch: when the factor was verified (becomes auth_time). */
  authTime: number;
  /** The factors this login proved, recorded with the session it opens. */
  factors?: SessionFactor[];
}

export interface SignUpDetails {
  username: string;
  email: string;
  displayName: string | null;
  handle: string;
  invite: string | null;
}

export type PendingStep =
  | { step: 'signup'; signup: SignUpDetails }
  | { step: 'add-passkey'; login: CompletedLogin }
  | { step: 'show-codes'; login: CompletedLogin };

const TTL_MS = PENDING_STEP_TTL_SECONDS * 1000;

export async function savePending(trx: TenantDb, binding: string, pending: PendingStep, now = new Date()): Promise<void> {
  const userId = pending.step === 'signup' ? null : pending.login.userId;
  const values = { user_id: userId, data: JSON.stringify(pending), expires_at: new Date(now.getTime() + TTL_MS) };
  await trx
    .insertInto('pending_logins')
    .values({ binding, ...values })
    .onConflict((oc) => oc.column('binding').doUpdateSet(values))
    .execute();
}

export async function loadPending(trx: TenantDb, binding: string, now = new Date()): Promise<PendingStep | undefined> {
  const row = await trx.selectFrom('pending_logins').select(['data']).where('binding', '=', binding).where('expires_at', '>', now).executeTakeFirst();
  if (!row) return undefined;
  return (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as PendingStep;
}

/** Removes and returns the pending step (atomically: a double submit finishes once). */
export async function takePending(trx: TenantDb, binding: string, now = new Date()): Promise<PendingStep | undefined> {
  const row = await trx.deleteFrom('pending_logins').where('binding', '=', binding).returning(['data', 'expires_at']).executeTakeFirst();
  if (!row || new Date(row.expires_at).getTime() <= now.getTime()) return undefined;
  return (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as PendingStep;
}
