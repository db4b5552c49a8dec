// Fresh proof on the account page: the factors an account-page session has proven are recorded in
// session_factors under the session's binding (`account:<id hash>`), with their times; a change
// to how the account signs in asks acceptedProofs() which of them will do, and refuses (asking for
// one on /account/verify) when none was made in the last five minutes.
import type { Context } from 'koa';
import type { TenantDb } from '../db/tenant-scope.ts';
import { respondProblem } from '../http/error-responder.ts';
import { withTenant } from '../db/tenant-scope.ts';
import type { FactorName } from '../factors/names.ts';
import { acceptedProofs, freshProof, type FactorChange } from '../stepup/fresh-proof.ts';
import type { SessionFactor } from '../stepup/index.ts';
import { enrolledFactors, recordSessionFactor, sessionFactors } from '../stepup/session-factors.ts';
import type { InteractionDeps } from '../interaction/flow.ts';
import type { AccountContext } from './session.ts';

export interface ProofState {
  accepted: FactorName[];
  fresh: SessionFactor | undefined;
}

export async function proofState(trx: TenantDb, account: Pick<AccountContext, 'binding' | 'user'>, change: FactorChange = {}, now = new Date()): Promise<ProofState> {
  const enrolled = await enrolledFactors(trx, account.user.id);
  const accepted = acceptedProofs(enrolled, change);
  const proven = await sessionFactors(trx, { sessionUid: account.binding, userId: account.user.id });
  return { accepted, fresh: freshProof(proven, accepted, Math.floor(now.getTime() / 1000)) };
}

export async function recordAccountProof(trx: TenantDb, account: Pick<AccountContext, 'binding' | 'user'>, proof: { factor: FactorName; amr: string[]; at: Date }): Promise<void> {
  await recordSessionFactor(trx, { sessionUid: account.binding, userId: account.user.id, factor: proof.factor, at: proof.at, amr: proof.amr });
}

/** What the audit event of a change records about the proof that allowed it. */
export const proofData = (proof: SessionFactor) => ({ proof: { factor: proof.factor, at: new Date(proof.at * 1000).toISOString() } });

/**
 * The fresh proof that allows `change`, or undefined after answering: pages are sent to
 * /account/verify (and come back to `back`), JSON calls get 403 `fresh_proof_required` with
 * where to go.
 */
export async function requireFreshProof(
  ctx: Context,
  deps: InteractionDeps,
  account: AccountContext,
  { change = {}, json = false, back = account.base }: { change?: FactorChange; json?: boolean; back?: string } = {},
): Promise<SessionFactor | undefined> {
  const state = await withTenant(deps.db, account.runtime.tenant, (trx) => proofState(trx, account, change));
  if (state.fresh) return state.fresh;
  const query = new URLSearchParams({ next: back });
  if (change.removing) query.set('removing', change.removing);
  const redirect = `${account.base}/verify?${query}`;
  if (json) {
    respondProblem(ctx, 403, 'fresh_proof_required', 'Confirm it is you first.', { redirect, accepted: state.accepted });
  } else {
    ctx.status = 303;
    ctx.redirect(redirect);
  }
  return undefined;
}

/** Where a proof may send the browser back to: only a path of this account page (never another site). */
export function accountPageReturn(base: string, value: unknown): string {
  return typeof value === 'string' && (value === base || /^[/?#]/.test(value.slice(base.length))) && value.startsWith(base) && !value.includes('//') ? value : base;
}
