// The overview's figures (issue 12), per UTC day over the last N days, read from the tenant's
// audit trail: authentications by factor and outcome (sign-ins and step-ups), active users (daily,
// and monthly as distinct users in the 30 days up to each day), sign-ups, failed attempts,
// lockouts, refresh-token reuse detections and face match outcomes. Served by
// src/admin/overview-api.ts (GET /admin/api/stats/overview).
import { sql } from 'kysely';
import { z } from 'zod';
import type { TenantDb } from '../db/tenant-scope.ts';
import type { AuditEventType } from './catalogue.ts';

/** Authentication events by factor: which type is a success and which a failure. */
export const FACTOR_EVENTS: ReadonlyArray<{ factor: string; success: AuditEventType[]; failure: AuditEventType[] }> = [
  { factor: 'passkey', success: ['passkey.sign_in'], failure: ['passkey.sign_in_failed', 'passkey.counter_regression'] },
  { factor: 'otp', success: ['factor.otp.verified'], failure: ['factor.otp.failed'] },
  { factor: 'nfc', success: ['factor.nfc.verified'], failure: ['factor.nfc.failed'] },
  { factor: 'face', success: ['factor.face.verified'], failure: ['factor.face.failed'] },
  { factor: 'recovery_code', success: ['recovery_code.used'], failure: ['recovery_code.failed'] },
];
/** A user counts as active on a day with a successful authentication or a token issued to an app for them. */
const ACTIVE: AuditEventType[] = [...FACTOR_EVENTS.flatMap((f) => f.success), 'token.issued'];
const LOCKOUTS: AuditEventType[] = ['lockout.locked', 'lockout.disabled', 'account.locked'];
const COUNTED: AuditEventType[] = [...FACTOR_EVENTS.flatMap((f) => [...f.success, ...f.failure]), 'user.signed_up', ...LOCKOUTS, 'refresh_token.reuse_detected'];

const counts = z.array(z.number().int());
export const overviewSchema = z.object({
  /** The days (UTC, YYYY-MM-DD), oldest first; every series has one number per day. */
  days: z.array(z.string()),
  authentications: z.array(z.object({ factor: z.string(), outcome: z.enum(['success', 'failure']), counts })),
  activeUsers: z.object({ daily: counts, monthly: counts }),
  signUps: counts,
  failedAttempts: counts,
  lockouts: counts,
  refreshReuse: counts,
  face: z.object({ verified: counts, failed: counts, failureReasons: z.array(z.object({ reason: z.string(), count: z.number().int() })) }),
});
export type Overview = z.infer<typeof overviewSchema>;

const dayOf = (value: unknown) => (value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10));

/** The overview of the `days` UTC days ending today (`now`). */
export async function overview(trx: TenantDb, { days, now = new Date() }: { days: number; now?: Date }): Promise<Overview> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const list = Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const index = new Map(list.map((d, i) => [d, i]));
  const since = new Date(today - (days - 1) * 86_400_000);
  const series = () => new Array<number>(days).fill(0);

  const byType = await sql<{ day: unknown; type: string; n: number }>`
    select (at at time zone 'UTC')::date::text as day, type, count(*)::int as n
    from audit_events
    where at >= ${since} and type in (${sql.join(COUNTED)})
    group by 1, 2`.execute(trx);
  const perType = new Map<string, number[]>();
  for (const row of byType.rows) {
    const i = index.get(dayOf(row.day));
    if (i === undefined) continue;
    if (!perType.has(row.type)) perType.set(row.type, series());
    perType.get(row.type)![i]! += row.n;
  }
  const sum = (types: readonly string[]) => {
    const out = series();
    for (const type of types) perType.get(type)?.forEach((n, i) => (out[i]! += n));
    return out;
  };

  const daily = await sql<{ day: unknown; n: number }>`
    select (at at time zone 'UTC')::date::text as day, count(distinct subject)::int as n
    from audit_events
    where at >= ${since} and subject is not null and type in (${sql.join(ACTIVE)})
    group by 1`.execute(trx);
  const dailyActive = series();
  for (const row of daily.rows) {
    const i = index.get(dayOf(row.day));
    if (i !== undefined) dailyActive[i] = row.n;
  }
  // Monthly active: distinct users in the 30 days up to and including each day.
  const monthly = await sql<{ day: unknown; n: number }>`
    select d::date::text as day,
      (select count(distinct subject) from audit_events
        where subject is not null and type in (${sql.join(ACTIVE)})
          and at >= d - interval '29 days' and at < d + interval '1 day')::int as n
    from generate_series(${since}::timestamptz, ${new Date(today)}::timestamptz, interval '1 day') as d`.execute(trx);
  const monthlyActive = series();
  for (const row of monthly.rows) {
    const i = index.get(dayOf(row.day));
    if (i !== undefined) monthlyActive[i] = row.n;
  }

  const reasons = await sql<{ reason: string | null; n: number }>`
    select data->>'reason' as reason, count(*)::int as n
    from audit_events
    where at >= ${since} and type = 'factor.face.failed'
    group by 1 order by 2 desc, 1`.execute(trx);

  const authentications = FACTOR_EVENTS.flatMap((f) => [
    { factor: f.factor, outcome: 'success' as const, counts: sum(f.success) },
    { factor: f.factor, outcome: 'failure' as const, counts: sum(f.failure) },
  ]);
  return {
    days: list,
    authentications,
    activeUsers: { daily: dailyActive, monthly: monthlyActive },
    signUps: sum(['user.signed_up']),
    failedAttempts: sum(FACTOR_EVENTS.flatMap((f) => f.failure)),
    lockouts: sum(LOCKOUTS),
    refreshReuse: sum(['refresh_token.reuse_detected']),
    face: { verified: sum(['factor.face.verified']), failed: sum(['factor.face.failed']), failureReasons: reasons.rows.map((r) => ({ reason: r.reason ?? 'unknown', count: r.n })) },
  };
}
