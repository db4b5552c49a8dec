// Read-only queries for the admin console and the locked-accounts metric. Each takes a
// tenant-scoped Kysely and an explicit `now`.
import { sql, type Kysely } from 'kysely';
import type { TenantKysely } from '../db/tenant-scope.ts';

export interface FailedAttemptRow {
  id: string;
  at: Date;
  ip: string | null;
  userAgent: string | null;
  userId: string | null;
  factor: string;
  reason: string;
  scores: Record<string, number> | null;
}

/** Failed attempts in the last `hours`, newest first. */
export async function recentFailedAttempts(db: TenantKysely, { hours = 24, limit = 200, userId, now = new Date() }: { hours?: number; limit?: number; userId?: string; now?: Date } = {}): Promise<FailedAttemptRow[]> {
  let query = db
    .selectFrom('failed_attempts')
    .selectAll()
    .where('at', '>=', since(now, hours))
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(1, limit), 5000));
  if (userId) query = query.where('user_id', '=', userId);
  const rows = await query.execute();
  return rows.map((r) => ({ id: String(r.id), at: new Date(r.at), ip: r.ip, userAgent: r.user_agent, userId: r.user_id, factor: r.factor, reason: r.reason, scores: r.scores as Record<string, number> | null }));
}

export interface SuspiciousActivity {
  /** Addresses with at least `threshold` failures in the window, and how many accounts they tried. */
  ips: Array<{ ip: string; failures: number; accounts: number }>;
  /** Accounts with at least `threshold` failures in the window, and from how many addresses. */
  accounts: Array<{ userId: string; failures: number; ips: number }>;
}

export async function suspiciousActivity(db: TenantKysely, { hours = 1, threshold = 20, now = new Date() }: { hours?: number; threshold?: number; now?: Date } = {}): Promise<SuspiciousActivity> {
  const from = since(now, hours);
  const ips = await db
    .selectFrom('failed_attempts')
    .select(['ip', sql<string>`count(*)`.as('failures'), sql<string>`count(distinct user_id)`.as('accounts')])
    .where('at', '>=', from)
    .where('ip', 'is not', null)
    .groupBy('ip')
    .having(sql`count(*)`, '>=', threshold)
    .orderBy(sql`count(*)`, 'desc')
    .limit(100)
    .execute();
  const accounts = await db
    .selectFrom('failed_attempts')
    .select(['user_id', sql<string>`count(*)`.as('failures'), sql<string>`count(distinct ip)`.as('ips')])
    .where('at', '>=', from)
    .where('user_id', 'is not', null)
    .groupBy('user_id')
    .having(sql`count(*)`, '>=', threshold)
    .orderBy(sql`count(*)`, 'desc')
    .limit(100)
    .execute();
  return {
    ips: ips.map((r) => ({ ip: r.ip!, failures: Number(r.failures), accounts: Number(r.accounts) })),
    accounts: accounts.map((r) => ({ userId: r.user_id!, failures: Number(r.failures), ips: Number(r.ips) })),
  };
}

export interface LockedFactorRow {
  userId: string;
  factor: string;
  failures: number;
  lockedUntil: Date | null;
  disabled: boolean;
}

/** Factors locked at `now` or disabled. */
export async function lockedAccounts(db: TenantKysely, { now = new Date() }: { now?: Date } = {}): Promise<LockedFactorRow[]> {
  const rows = await db
    .selectFrom('factor_lockouts')
    .select(['user_id', 'factor', 'failures', 'locked_until', 'disabled'])
    .where((eb) => eb.or([eb('disabled', '=', true), eb('locked_until', '>', now)]))
    .orderBy('user_id')
    .orderBy('factor')
    .execute();
  return rows.map((r) => ({ userId: r.user_id, factor: r.factor, failures: Number(r.failures), lockedUntil: r.locked_until ? new Date(r.locked_until) : null, disabled: r.disabled }));
}

/** Distinct users with any factor locked or disabled: the facet_locked_accounts gauge. */
export async function countLockedUsers(db: TenantKysely, { now = new Date() }: { now?: Date } = {}): Promise<number> {
  const row = await db
    .selectFrom('factor_lockouts')
    .select(sql<string>`count(distinct user_id)`.as('n'))
    .where((eb) => eb.or([eb('disabled', '=', true), eb('locked_until', '>', now)]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function since(now: Date, hours: number): Date {
  return new Date(now.getTime() - hours * 3600 * 1000);
}
