// Recovery codes: shown once right after the first passkey, and usable once each to sign in, which
// then requires creating a new passkey before the login finishes.
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findLiveUserByUsername } from '../accounts/users.ts';
import { issueRecoveryCodes } from '../accounts/recovery-codes.ts';
import { HttpError } from '../errors/http-errors.ts';
import { recoveryCodesPage, recoveryPage, requirementsPage } from '../../ui/pages/interaction.tsx';
import { RECOVERY_ACR } from '../stepup/index.ts';
import { recoveryCodeFactor } from '../factors/recovery-code/factor.ts';
import { runAttempt } from './attempt.ts';
import { consumeAccountLimits } from './account-limits.ts';
import { fill, waitArguments } from '../../views/strings/index.ts';
import { continueOrFinish, endUnmet, loadUnmet, loadUnmetRequirement } from './step-up.ts';
import { htmlResponse, readBody, requestFacts } from './http.ts';
import { respondRateLimited } from '../http/error-responder.ts';
import { pageContext, type Flow, type InteractionDeps } from './flow.ts';
import { loadPending, savePending, takePending } from './pending.ts';
import { lockedMessage } from './messages.ts';

export function showRecovery(ctx: Context, flow: Flow): void {
  htmlResponse(ctx, recoveryPage(pageContext(ctx, flow), {}));
}

export async function submitRecovery(ctx: Context, flow: Flow, deps: InteractionDeps, now = () => new Date()): Promise<void> {
  const body = await readBody(ctx);
  const username = typeof body.username === 'string' ? body.username.trim() : '';
  const code = typeof body.code === 'string' ? body.code : '';
  const at = now();
  const limited = await consumeAccountLimits(deps.services, flow.runtime, 'signin.account', [username]);
  if (!limited.allowed) {
    const detail = fill(flow.t.stepUp.tooMany, waitArguments(limited.retryAfterSeconds));
    return respondRateLimited(ctx, limited.retryAfterSeconds, { detail, page: () => htmlResponse(ctx, recoveryPage(pageContext(ctx, flow), { username, error: detail }), 429) });
  }
  const user = username ? await withTenant(deps.db, flow.runtime.tenant, (trx) => findLiveUserByUsername(trx, username)) : undefined;
  const outcome = await runAttempt(deps.db, flow.runtime.tenant, {
    factor: recoveryCodeFactor,
    userId: user && user.status === 'active' ? user.id : null,
    input: { code },
    facts: requestFacts(ctx),
    flow: flow.kind,
    auditData: { username },
    metric: (result) => deps.services.metrics.signIns.inc({ tenant: flow.runtime.tenant.slug, factor: 'recovery_code', outcome: result === 'rate_limited' ? 'failure' : result }),
    now: at,
  });
  if (!outcome.ok) {
    const message = outcome.refusal === 'locked' ? lockedMessage(flow.t, outcome.lock) : flow.t.recovery.invalid;
    htmlResponse(ctx, recoveryPage(pageContext(ctx, flow), { username, error: message }), 400);
    return;
  }
  await withTenant(deps.db, flow.runtime.tenant, (trx) =>
    savePending(trx, flow.binding, { step: 'add-passkey', login: { userId: user!.id, amr: outcome.amr, acr: RECOVERY_ACR, authTime: Math.floor(at.getTime() / 1000) } }, at),
  );
  ctx.status = 303;
  ctx.redirect(`${flow.base}/create-passkey`);
}

/** Shows a fresh set of codes while the sign-up is between "passkey created" and "continue". */
export async function showRecoveryCodes(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const facts = requestFacts(ctx);
  const codes = await withTenant(deps.db, flow.runtime.tenant, async (trx) => {
    const pending = await loadPending(trx, flow.binding);
    if (!pending || pending.step !== 'show-codes') return undefined;
    // Reloading shows a new set and voids the previous one: codes exist in clear only in this response.
    const issued = await issueRecoveryCodes(trx, pending.login.userId);
    await appendAudit(trx, { type: 'recovery_code.issued', actor: pending.login.userId, subject: pending.login.userId, ...facts, data: { count: issued.length } });
    return issued;
  });
  if (!codes) throw new HttpError(400, 'pending_gone', flow.t.recoveryCodes.title, flow.t.errors.pendingGone);
  htmlResponse(ctx, recoveryCodesPage(pageContext(ctx, flow), { codes }));
}

export async function continueAfterCodes(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const pending = await withTenant(deps.db, flow.runtime.tenant, (trx) => takePending(trx, flow.binding));
  if (!pending || pending.step !== 'show-codes') throw new HttpError(400, 'pending_gone', flow.t.recoveryCodes.title, flow.t.errors.pendingGone);
  // The new account's passkey is its first factor; the request decides whether that is enough.
  const { login } = pending;
  ctx.status = 303;
  ctx.redirect(await continueOrFinish(ctx, flow, deps, { userId: login.userId, factor: 'passkey', amr: login.amr, at: new Date(login.authTime * 1000), newAccount: true }));
}

/** An account (new, signing in, or stepping up) that cannot meet what the application requires: why, and the way back. */
export async function showRequirements(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const unmet = await loadUnmetRequirement(deps, flow);
  if (!unmet) throw new HttpError(400, 'pending_gone', flow.t.requirements.title, flow.t.errors.pendingGone);
  htmlResponse(ctx, requirementsPage(pageContext(ctx, flow), { clientName: flow.clientName ?? '', description: unmet.description, newAccount: unmet.newAccount }));
}

/** "Back to the application": it receives unmet_authentication_requirements. */
export async function leaveRequirements(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const description = await loadUnmet(deps, flow);
  if (!description) throw new HttpError(400, 'pending_gone', flow.t.requirements.title, flow.t.errors.pendingGone);
  ctx.status = 303;
  ctx.redirect(await endUnmet(ctx, flow, description));
}
