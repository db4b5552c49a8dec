// Signing in with a passkey: the page (autofill + button + username-first), the options endpoint
// and the verification endpoint. Every outcome is an audit event.
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { withTenantPipeline } from '../db/pipelined-tenant.ts';
import { refusal, tooManyRequests } from '../errors/http-errors.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findLiveUserByUsername } from '../accounts/users.ts';
import { finishAuthentication, relyingPartyFor, startAuthentication, type AuthenticationResponseJSON } from '../factors/passkey/index.ts';
import { signInPage } from '../../ui/pages/interaction.tsx';
import { htmlResponse, readBody, requestFacts, securePage } from './http.ts';
import { csrfKey, pageContext, type Flow, type InteractionDeps } from './flow.ts';
import { lockedMessage, passkeyMessage } from './messages.ts';
import { checkLock, recordFailure, recordSuccess, type LockState } from '../lockout/index.ts';
import { continueOrFinish } from './step-up.ts';
import { consumeAccountLimits } from './account-limits.ts';
import { fill, waitArguments } from '../../views/strings/index.ts';
import { FLOW_JSON_ROUTES } from './json-api.ts';
import { jsonStep } from './json-step.ts';

export function signUpAllowed(flow: Flow): boolean {
  return flow.runtime.settings.signup !== 'closed';
}

export function renderSignIn(
  ctx: Context,
  flow: Flow,
  { username, error, notice, status = 200 }: { username?: string | undefined; error?: string | undefined; notice?: string | undefined; status?: number } = {},
): void {
  htmlResponse(ctx, signInPage(pageContext(ctx, flow), { clientName: flow.clientName, username, error, notice, signUpAllowed: signUpAllowed(flow) }), status);
}

export const passkeyOptions = jsonStep(FLOW_JSON_ROUTES.passkeyOptions, async (ctx, flow, deps, { body }) => {
  const { runtime } = flow;
  const rp = relyingPartyFor(deps.config.publicUrl, { name: runtime.tenant.name, settings: runtime.settings });
  const username = body.username || undefined;
  const limited = await consumeAccountLimits(deps.services, runtime, 'signin.account', [username]);
  if (!limited.allowed) throw tooManyRequests(limited.retryAfterSeconds, fill(flow.t.stepUp.tooMany, waitArguments(limited.retryAfterSeconds)));
  const options = await withTenant(deps.db, runtime.tenant, async (trx) => {
    const user = username ? await findLiveUserByUsername(trx, username) : undefined;
    return startAuthentication(trx, {
      rp,
      binding: flow.binding,
      userVerification: runtime.settings.user_verification,
      ...(user ? { user } : {}),
      ...(username && !user ? { unknownUsername: { name: username, key: csrfKey(deps.config) } } : {}),
    });
  });
  securePage(ctx);
  return { status: 200, body: options };
});

export const passkeyVerify = jsonStep(FLOW_JSON_ROUTES.passkeyVerify, async (ctx, flow, deps, { body: input }) => {
  const { runtime } = flow;
  const rp = relyingPartyFor(deps.config.publicUrl, { name: runtime.tenant.name, settings: runtime.settings });
  const facts = requestFacts(ctx);
  const clientId = flow.details?.clientId ?? null;
  const at = new Date();
  // Pipelined (issue 16): the challenge and credential read travels with BEGIN, the writes after
  // verification (counter, lockout reset, audit) with the COMMIT; a failure's lockout count is read.
  const result = await withTenantPipeline(deps.db, runtime.tenant, async ({ trx, later }) => {
    let lock: LockState | undefined;
    const outcome = await finishAuthentication(trx, {
      rp,
      binding: flow.binding,
      response: input.response as unknown as AuthenticationResponseJSON,
      userVerification: runtime.settings.user_verification,
      later,
      // Failures slow an account down (src/lockout): while locked, the assertion is not even checked.
      refuseBeforeVerifying: async (user) => {
        const state = await checkLock(trx, user.id, 'passkey', at);
        if (!state.locked) return undefined;
        lock = state;
        return { ok: false, code: 'locked', detail: 'passkey factor locked', userId: user.id };
      },
      now: at,
    });
    if (!outcome.ok && outcome.code === 'locked') {
      await appendAudit(later, { type: 'passkey.sign_in_failed', subject: outcome.userId ?? null, clientId, ...facts, data: { reason: 'locked', flow: flow.kind } });
      return { ok: false as const, code: 'locked', detail: outcome.detail, message: lockedMessage(flow.t, lock ?? { disabled: true }) };
    }
    if (!outcome.ok) {
      await appendAudit(later, {
        type: outcome.code === 'counter_regression' ? 'passkey.counter_regression' : 'passkey.sign_in_failed',
        subject: outcome.userId ?? null,
        clientId,
        ...facts,
        data: { reason: outcome.code, detail: outcome.detail, credential_id: outcome.credentialId ?? input.response.id, flow: flow.kind },
      });
      const { events } = await recordFailure(trx, { userId: outcome.userId ?? null, factor: 'passkey', reason: outcome.code, ip: facts.ip, userAgent: facts.userAgent, now: at });
      for (const event of events) await appendAudit(later, { ...event, ...facts });
      return { ok: false as const, code: outcome.code, detail: outcome.detail, message: passkeyMessage(flow.t, outcome.code, runtime.tenant.name) };
    }
    await recordSuccess(later, outcome.user.id, 'passkey', at);
    await appendAudit(later, {
      type: 'passkey.sign_in',
      actor: outcome.user.id,
      subject: outcome.user.id,
      clientId,
      ...facts,
      data: { credential_id: outcome.credential.credentialId, amr: outcome.amr, backup_state: outcome.backupState, flow: flow.kind },
    });
    return outcome;
  });
  deps.services.metrics.signIns.inc({
    tenant: runtime.tenant.slug,
    factor: 'passkey',
    outcome: result.ok ? 'success' : result.code === 'locked' ? 'locked' : 'failure',
  });
  if (!result.ok) {
    deps.logger.info({ tenant: runtime.tenant.slug, reason: result.code, detail: result.detail }, 'passkey sign-in refused');
    throw refusal(400, result.code, result.message);
  }
  // Through step-up routing: a request for more than a passkey continues to the next factor.
  const redirect = await continueOrFinish(ctx, flow, deps, { userId: result.user.id, factor: 'passkey', amr: result.amr, at });
  return { status: 200, body: { redirect } };
});

/** The username form without JavaScript: passkeys need it, so say so (recovery codes still work). */
export async function identifyWithoutScript(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const body = await readBody(ctx);
  renderSignIn(ctx, flow, { username: typeof body.username === 'string' ? body.username : undefined, error: flow.t.common.needsJs, status: 400 });
}
