// The one attempt pipeline. Every factor attempt (app code, NFC tap, recovery code, face, and the
// account page's fresh proofs) runs the same steps in the same order:
//   subject → enrolled → rate limits → lock → verify → audit → lockout bookkeeping → metric
// and the caller continues (continueOrFinish, or a fresh-proof record) only on success. A locked
// factor is refused before it is verified. Rate limits are consulted before the tenant
// transaction opens (they may call Redis); lock, verify, audit and lockout commit together.
import { withTenant, type TenantScope } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { checkLock, recordFailure, recordSuccess, type LockState } from '../lockout/index.ts';
import type { Factor } from '../factors/contract.ts';
import type { RootDb } from '../db/client.ts';

export interface RequestFacts {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export type LimitVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export type AttemptOutcome =
  | { ok: true; amr: string[]; at: Date; data: Record<string, unknown> }
  | { ok: false; refusal: 'not_enrolled' }
  | { ok: false; refusal: 'rate_limited'; retryAfterSeconds: number }
  | { ok: false; refusal: 'locked'; lock: LockState }
  /** lock: the state after this failure was counted (locked when this one started a lock). */
  | { ok: false; refusal: 'failed'; reason: string; lock: LockState };

export type AttemptMetricOutcome = 'success' | 'failure' | 'locked' | 'rate_limited';

export interface Attempt<Input> {
  factor: Factor<Input>;
  /** Who is proving the factor; null when the name given matched no account (still audited). */
  userId: string | null;
  input: Input;
  facts: RequestFacts;
  clientId?: string | null;
  /** Where the attempt was made ('step-up', 'interaction', 'account', 'fresh-proof'), for the audit trail. */
  flow: string;
  /** The rate limits of this kind of attempt. */
  limit?: () => Promise<LimitVerdict>;
  metric?: (outcome: AttemptMetricOutcome) => void;
  /** Extra data recorded with every audit event of this attempt. */
  auditData?: Record<string, unknown>;
  now?: Date;
}

export async function runAttempt<Input>(db: RootDb, tenant: TenantScope, attempt: Attempt<Input>): Promise<AttemptOutcome> {
  const { factor, userId, facts, flow } = attempt;
  const clientId = attempt.clientId ?? null;
  const now = attempt.now ?? new Date();
  const extra = attempt.auditData ?? {};
  if (userId !== null && !(await withTenant(db, tenant, (trx) => factor.enrolled(trx, userId)))) return { ok: false, refusal: 'not_enrolled' };
  if (attempt.limit) {
    const verdict = await attempt.limit();
    if (!verdict.allowed) {
      attempt.metric?.('rate_limited');
      return { ok: false, refusal: 'rate_limited', retryAfterSeconds: verdict.retryAfterSeconds };
    }
  }
  const outcome = await withTenant(db, tenant, async (trx): Promise<AttemptOutcome> => {
    if (userId !== null) {
      const lock = await checkLock(trx, userId, factor.name, now);
      if (lock.locked) {
        await appendAudit(trx, { type: factor.audit.failed, subject: userId, clientId, ...facts, data: { ...extra, reason: 'locked', flow } });
        return { ok: false, refusal: 'locked', lock };
      }
    }
    const result = userId === null ? { ok: false as const, reason: 'unknown_user', counts: true } : await factor.verify(trx, { userId, input: attempt.input, now });
    if (result.ok) {
      await recordSuccess(trx, userId!, factor.name, now);
      await appendAudit(trx, { type: factor.audit.verified, actor: userId, subject: userId, clientId, ...facts, data: { ...extra, ...result.data, flow } });
      return { ok: true, amr: result.amr, at: now, data: result.data };
    }
    await appendAudit(trx, { type: factor.audit.failed, subject: userId, clientId, ...facts, data: { ...extra, ...(result.data ?? {}), reason: result.reason, flow } });
    if (!result.counts) return { ok: false, refusal: 'not_enrolled' };
    const { state, events } = await recordFailure(trx, { userId, factor: factor.name, reason: result.reason, ip: facts.ip, userAgent: facts.userAgent, now });
    for (const event of events) await appendAudit(trx, { ...event, clientId, ...facts });
    return { ok: false, refusal: 'failed', reason: result.reason, lock: state };
  });
  attempt.metric?.(outcome.ok ? 'success' : outcome.refusal === 'locked' ? 'locked' : 'failure');
  return outcome;
}
