// Where a sign-in or sign-up flow stands between two requests, kept server-side per binding
// (interaction uid or account-page flow) for fifteen minutes: the pending_logins table, one JSON
// value per key (the step of a sign-up, the factors of a step-up so far, why a request is unmet).
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

const parsed = (data: unknown): unknown => (typeof data === 'string' ? JSON.parse(data) : data);

/** Keeps `value` under `key` for PENDING_STEP_TTL_SECONDS (replacing what was there). */
export async function putPendingValue(trx: TenantDb, key: string, value: unknown, { userId, now = new Date() }: { userId: string | null; now?: Date }): Promise<void> {
  const values = { user_id: userId, data: JSON.stringify(value), expires_at: new Date(now.getTime() + TTL_MS) };
  await trx
    .insertInto('pending_logins')
    .values({ binding: key, ...values })
    .onConflict((oc) => oc.column('binding').doUpdateSet(values))
    .execute();
}

/** The value under `key`, unless it expired. */
export async function getPendingValue(trx: TenantDb, key: string, now = new Date()): Promise<unknown> {
  const row = await trx.selectFrom('pending_logins').select(['data']).where('binding', '=', key).where('expires_at', '>', now).executeTakeFirst();
  return row ? parsed(row.data) : undefined;
}

/** Removes and returns the value under `key` (atomically: of two requests, one gets it). */
export async function takePendingValue(trx: TenantDb, key: string, now = new Date()): Promise<unknown> {
  const row = await trx.deleteFrom('pending_logins').where('binding', '=', key).returning(['data', 'expires_at']).executeTakeFirst();
  if (!row || new Date(row.expires_at).getTime() <= now.getTime()) return undefined;
  return parsed(row.data);
}

export async function savePending(trx: TenantDb, binding: string, pending: PendingStep, now = new Date()): Promise<void> {
  await putPendingValue(trx, binding, pending, { userId: pending.step === 'signup' ? null : pending.login.userId, now });
}

export async function loadPending(trx: TenantDb, binding: string, now = new Date()): Promise<PendingStep | undefined> {
  return (await getPendingValue(trx, binding, now)) as PendingStep | undefined;
}

/** Removes and returns the pending step (atomically: a double submit finishes once). */
export async function takePending(trx: TenantDb, binding: string, now = new Date()): Promise<PendingStep | undefined> {
  return (await takePendingValue(trx, binding, now)) as PendingStep | undefined;
}
