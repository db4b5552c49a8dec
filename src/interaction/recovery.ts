// Recovery codes: shown once right after the first passkey, and usable once each to sign in, which
// then requires creating a new passkey before the login finishes.
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findLiveUserByUsername } from '../accounts/users.ts';
import { issueRecoveryCodes, useRecoveryCode } from '../accounts/recovery-codes.ts';
import { HttpError } from '../errors/http-errors.ts';
import { recoveryCodesPage, recoveryPage } from '../../views/pages.ts';
import { RECOVERY_ACR } from '../oidc/grant-policy.ts';
import { checkCsrf, htmlResponse, readBody, requestFacts } from './http.ts';
import { csrfKey, pageContext, type Flow, type InteractionDeps } from './flow.ts';
import { loadPending, savePending, takePending } from './pending.ts';
import { lockedMessage } from './messages.ts';
import { checkLock, recordFailure, recordSuccess } from '../lockout/index.ts';

export function showRecovery(ctx: Context, flow: Flow): void {
  htmlResponse(ctx, recoveryPage(pageContext(ctx, flow), {}));
}

export async function submitRecovery(ctx: Context, flow: Flow, deps: InteractionDeps, now = () => new Date()): Promise<void> {
  const body = await readBody(ctx);
  checkCsrf(ctx, csrfKey(deps.config), flow.binding, body.csrf);
  const username = typeof body.username === 'string' ? body.username.trim() : '';
  const code = typeof body.code === 'string' ? body.code : '';
  const facts = requestFacts(ctx);
  const at = now();
  const outcome = await withTenant(deps.db, flow.runtime.tenant, async (trx): Promise<{ ok: true } | { ok: false; message: string }> => {
    const user = username ? await findLiveUserByUsername(trx, username) : undefined;
    if (user) {
      const lock = await checkLock(trx, user.id, 'recovery', at);
      if (lock.locked) {
        await appendAudit(trx, { type: 'recovery_code.failed', subject: user.id, ...facts, data: { username, reason: 'locked', flow: flow.kind } });
        return { ok: false, message: lockedMessage(flow.t, lock) };
      }
    }
    const used = user && user.status === 'active' ? await useRecoveryCode(trx, user.id, code, at) : false;
    if (!user || !used) {
      await appendAudit(trx, { type: 'recovery_code.failed', subject: user?.id ?? null, ...facts, data: { username, flow: flow.kind } });
      const { events } = await recordFailure(trx, { userId: user?.id ?? null, factor: 'recovery', reason: user ? 'bad_code' : 'unknown_user', ip: facts.ip, userAgent: facts.userAgent, now: at });
      for (const event of events) await appendAudit(trx, { ...event, ...facts });
      return { ok: false, message: flow.t.recovery.invalid };
    }
    await recordSuccess(trx, user.id, 'recovery', at);
    await appendAudit(trx, { type: 'recovery_code.used', actor: user.id, subject: user.id, ...facts, data: { flow: flow.kind } });
    await savePending(trx, flow.binding, { step: 'add-passkey', login: { userId: user.id, amr: ['otp'], acr: RECOVERY_ACR, authTime: Math.floor(at.getTime() / 1000) } }, at);
    return { ok: true };
  });
  if (!outcome.ok) {
    htmlResponse(ctx, recoveryPage(pageContext(ctx, flow), { username, error: outcome.message }), 400);
    return;
  }
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
    await appendAudit(trx, { type: 'recovery_codes.issued', actor: pending.login.userId, subject: pending.login.userId, ...facts, data: { count: issued.length } });
    return issued;
  });
  if (!codes) throw new HttpError(400, 'pending_gone', flow.t.recoveryCodes.title, flow.t.errors.pendingGone);
  htmlResponse(ctx, recoveryCodesPage(pageContext(ctx, flow), { codes }));
}

export async function continueAfterCodes(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const body = await readBody(ctx);
  checkCsrf(ctx, csrfKey(deps.config), flow.binding, body.csrf);
  const pending = await withTenant(deps.db, flow.runtime.tenant, (trx) => takePending(trx, flow.binding));
  if (!pending || pending.step !== 'show-codes') throw new HttpError(400, 'pending_gone', flow.t.recoveryCodes.title, flow.t.errors.pendingGone);
  ctx.status = 303;
  ctx.redirect(await flow.complete(pending.login));
}
