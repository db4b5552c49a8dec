// Failed attempts and per-factor lockout, stored in the tenant schema (failed_attempts,
// factor_lockouts). Every function takes a tenant-scoped Kysely (withTenant's transaction) and an
// explicit `now`, so tests control time. Lock changes come back as audit-event descriptions,
// shaped like the audit log's AuditEvent, for the caller to append in the same transaction.
import { sql, type Kysely } from 'kysely';
import { DEFAULT_RULES, decide, ruleFor, type LockoutRules } from './rules.ts';
import type { FactorName } from '../factors/names.ts';
import type { AuditData } from '../audit/catalogue.ts';
import type { TenantKysely } from '../db/tenant-scope.ts';

export type LockoutAuditEvent = {
  [T in 'lockout.locked' | 'lockout.disabled' | 'lockout.unlocked']: { type: T; subject: string; actor?: string | null; data: AuditData<T> };
}['lockout.locked' | 'lockout.disabled' | 'lockout.unlocked'];

export interface LockState {
  locked: boolean;
  /** When the factor may be tried again (absent when not locked, or when disabled). */
  until?: Date;
  /** The overall limit was reached; only an administrator's unlock brings the factor back. */
  disabled?: boolean;
  /** Consecutive failures so far. */
  failures: number;
}

export interface FailureInput {
  /** Null when the username did not resolve to an account (still recorded, never locks anyone). */
  userId?: string | null;
  factor: FactorName;
  /** Short machine-readable cause: 'bad_code', 'no_match', 'spoof', 'replay', 'unknown_user' … */
  reason: string;
  ip?: string | null;
  userAgent?: string | null;
  /** Biometric scores (similarity, liveness); never images or embeddings. */
  scores?: Record<string, number> | null;
  /** Presentation-attack detection was on for this biometric attempt (doubles the allowance). */
  pad?: boolean;
  now?: Date;
}

export interface LockoutOptions {
  rules?: LockoutRules;
}

/** Is this user's factor usable at `now`? Check before verifying, refuse without verifying if locked. */
export async function checkLock(db: TenantKysely, userId: string, factor: FactorName, now: Date = new Date()): Promise<LockState> {
  const row = await db
    .selectFrom('factor_lockouts')
    .select(['failures', 'locked_until', 'disabled'])
    .where('user_id', '=', userId)
    .where('factor', '=', factor)
    .executeTakeFirst();
  if (!row) return { locked: false, failures: 0 };
  return stateOf(row, now);
}

/**
 * Records one failed attempt and, for a known user, counts it towards the factor's lockout.
 * Returns the resulting lock state and any audit events (a lock starting, the factor disabled).
 */
export async function recordFailure(db: TenantKysely, input: FailureInput, { rules = DEFAULT_RULES }: LockoutOptions = {}): Promise<{ state: LockState; events: LockoutAuditEvent[] }> {
  const now = input.now ?? new Date();
  await db
    .insertInto('failed_attempts')
    .values({
      at: now,
      ip: input.ip ?? null,
      // Bounded: a user agent is attacker-controlled and we keep it for a month.
      user_agent: input.userAgent ? input.userAgent.slice(0, 512) : null,
      user_id: input.userId ?? null,
      factor: input.factor,
      reason: input.reason.slice(0, 100),
      scores: input.scores ? JSON.stringify(input.scores) : null,
    })
    .execute();
  if (!input.userId) return { state: { locked: false, failures: 0 }, events: [] };

  // One atomic increment, so concurrent failures are all counted.
  const counted = await db
    .insertInto('factor_lockouts')
    .values({ user_id: input.userId, factor: input.factor, failures: 1, updated_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'factor']).doUpdateSet({ failures: sql`factor_lockouts.failures + 1`, updated_at: now }))
    .returning(['failures', 'disabled'])
    .executeTakeFirstOrThrow();
  const failures = Number(counted.failures);
  const decision = decide(ruleFor(rules, input.factor, { pad: input.pad }), failures, now);
  const events: LockoutAuditEvent[] = [];
  if (decision.disabled && !counted.disabled) {
    await db
      .updateTable('factor_lockouts')
      .set({ disabled: true, locked_until: null, level: decision.level })
      .where('user_id', '=', input.userId)
      .where('factor', '=', input.factor)
      .execute();
    events.push({ type: 'lockout.disabled', subject: input.userId, data: { factor: input.factor, failures } });
  } else if (decision.lockedUntil && !counted.disabled) {
    await db
      .updateTable('factor_lockouts')
      // greatest(): a slower concurrent failure must not shorten a lock already set.
      .set({ locked_until: sql`greatest(coalesce(locked_until, ${decision.lockedUntil}), ${decision.lockedUntil})`, level: decision.level })
      .where('user_id', '=', input.userId)
      .where('factor', '=', input.factor)
      .execute();
    events.push({ type: 'lockout.locked', subject: input.userId, data: { factor: input.factor, failures, level: decision.level, until: decision.lockedUntil.toISOString() } });
  }
  return { state: await checkLock(db, input.userId, input.factor, now), events };
}

/** A successful verification ends the run of consecutive failures (a disabled factor stays disabled). */
export async function recordSuccess(db: TenantKysely, userId: string, factor: FactorName, now: Date = new Date()): Promise<void> {
  await db
    .updateTable('factor_lockouts')
    .set({ failures: 0, level: 0, locked_until: null, updated_at: now })
    .where('user_id', '=', userId)
    .where('factor', '=', factor)
    .where('disabled', '=', false)
    .execute();
}

/** An administrator (or re-enrolment) lifts locks: one factor, or every factor when none is given. */
export async function unlock(db: TenantKysely, { userId, factor, actor = null, now = new Date() }: { userId: string; factor?: FactorName; actor?: string | null; now?: Date }): Promise<LockoutAuditEvent[]> {
  let query = db
    .updateTable('factor_lockouts')
    .set({ failures: 0, level: 0, locked_until: null, disabled: false, updated_at: now })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('failures', '>', 0), eb('disabled', '=', true), eb('locked_until', 'is not', null)]));
  if (factor) query = query.where('factor', '=', factor);
  const rows = await query.returning(['factor']).execute();
  return rows.map((row) => ({ type: 'lockout.unlocked' as const, subject: userId, actor, data: { factor: row.factor } }));
}

/** An administrator disables one factor until it is unlocked; returns the failures counted so far. */
export async function disableFactor(db: TenantKysely, userId: string, factor: FactorName, now: Date = new Date()): Promise<{ failures: number }> {
  const row = await db
    .insertInto('factor_lockouts')
    .values({ user_id: userId, factor, disabled: true, updated_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'factor']).doUpdateSet({ disabled: true, updated_at: now }))
    .returning(['failures'])
    .executeTakeFirstOrThrow();
  return { failures: Number(row.failures) };
}

/** Retention: deletes attempts older than `olderThan` milliseconds (default 30 days). Returns the count. */
export async function purgeFailedAttempts(db: TenantKysely, { olderThan = 30 * 24 * 3600 * 1000, now = new Date() }: { olderThan?: number; now?: Date } = {}): Promise<number> {
  const result = await db.deleteFrom('failed_attempts').where('at', '<', new Date(now.getTime() - olderThan)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

function stateOf(row: { failures: number | string; locked_until: Date | string | null; disabled: boolean }, now: Date): LockState {
  const failures = Number(row.failures);
  if (row.disabled) return { locked: true, disabled: true, failures };
  const until = row.locked_until ? new Date(row.locked_until) : undefined;
  if (until && until.getTime() > now.getTime()) return { locked: true, until, failures };
  return { locked: false, failures };
}
