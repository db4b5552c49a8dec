// The step-up pages of an interaction, /t/<slug>/interaction/:uid/stepup/<factor>, and the account
// page's factor sections. One attempt runs the same rules for every factor: someone identified
// in this interaction (stepUpSubject), the factor enrolled, the stepup.ip and stepup.account rate
// limits, the factor's lockout, then the factor's own check (FactorCheck); each outcome is an
// audit event and a metric, and a success goes on through continueOrFinish.
//
// The face factor's pages follow the same contract at /interaction/:uid/stepup/face and end with
// continueOrFinish(ctx, flow, deps, { userId, factor: 'face', amr: ['face'], at }).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { withTenant, type TenantDb } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { checkLock, recordFailure, recordSuccess, type LockState } from '../lockout/index.ts';
import { HttpError } from '../errors/http-errors.ts';
import type { Services } from '../services.ts';
import type { AccountContext } from '../account/routes.ts';
import { csrfKey, interactionFlow, pageContext, type Flow, type InteractionDeps } from '../interaction/flow.ts';
import { checkCsrf, htmlResponse, readBody, requestFacts } from '../interaction/http.ts';
import { renderSignIn } from '../interaction/sign-in.ts';
import { consumeStepUpLimits, continueOrFinish, stepUpSubject, type StepUpSubject } from '../interaction/step-up.ts';
import { accountFactorsSections, nfcStepUpPage, otpStepUpPage, stepUpIntroPage } from '../../views/step-up.ts';
import { fill, stringsFor, type Strings } from '../../views/strings/index.ts';
import type { SafeHtml } from '../../views/html.ts';
import type { PageContext } from '../../views/pages.ts';
import { nfcCheck, nfcStoreFor, registerNfcAccountRoutes } from '../factors/nfc/routes.ts';
import { registerTotpAccountRoutes, totpCheck, totpStoreFor } from '../factors/totp/routes.ts';
import type { Factor } from './factors.ts';

export type FactorCheckResult =
  | { ok: true; amr: string[]; data: Record<string, unknown> }
  /** counts: whether the failure counts towards the factor's lockout. */
  | { ok: false; reason: string; counts: boolean; error?: string; value?: string };

/** One factor's verification, run inside the attempt's tenant transaction. */
export interface FactorCheck {
  factor: Factor;
  /** The factor's name in the lockout rules (src/lockout/rules.ts). */
  lockFactor: string;
  /** Audit events are `<auditPrefix>.verified` and `<auditPrefix>.failed`. */
  auditPrefix: string;
  verify(trx: TenantDb, input: { ctx: Context; userId: string; body: Record<string, any>; t: Strings; tenantName: string; now: Date }): Promise<FactorCheckResult>;
}

interface StepUpPage {
  check: FactorCheck;
  render(ctx: PageContext, state: { error?: string | undefined; formError?: string | undefined; value?: string | undefined }): string;
}

const PAGES: StepUpPage[] = [
  { check: totpCheck, render: otpStepUpPage },
  { check: nfcCheck, render: nfcStepUpPage },
];

async function subjectOrGone(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<StepUpSubject> {
  const subject = await stepUpSubject(flow, deps);
  if (!subject) throw new HttpError(400, 'step_up_unavailable', flow.t.stepUp.title, flow.t.stepUp.gone);
  return subject;
}

function lockMessage(t: Strings, state: LockState): string {
  if (state.disabled) return t.stepUp.disabled;
  return fill(t.stepUp.locked, { time: `${(state.until ?? new Date()).toISOString().slice(11, 19)} UTC` });
}

function metric(ctx: Context, flow: Flow, factor: Factor, outcome: string): void {
  (ctx.state.services as Services).metrics.stepUpChallenges.inc({ tenant: flow.runtime.tenant.slug, factor, outcome });
}

function showFactorPage(ctx: Context, flow: Flow, page: StepUpPage, state: { error?: string | undefined; formError?: string | undefined; value?: string | undefined } = {}, status = 200): void {
  htmlResponse(ctx, page.render(pageContext(ctx, flow), state), status);
}

async function attempt(ctx: Context, flow: Flow, deps: InteractionDeps, page: StepUpPage): Promise<void> {
  const body = await readBody(ctx);
  checkCsrf(ctx, csrfKey(deps.config), flow.binding, body.csrf);
  const { t, runtime } = flow;
  const { check } = page;
  const subject = await subjectOrGone(ctx, flow, deps);
  if (!subject.enrolled.has(check.factor)) return showFactorPage(ctx, flow, page, { formError: t.stepUp.notEnrolled }, 400);
  const limited = await consumeStepUpLimits(ctx, runtime, subject.userId);
  if (!limited.allowed) {
    ctx.set('Retry-After', String(limited.retryAfterSeconds));
    return showFactorPage(ctx, flow, page, { formError: fill(t.stepUp.tooMany, { seconds: limited.retryAfterSeconds }) }, 429);
  }
  const facts = requestFacts(ctx);
  const clientId = (flow.details?.params.client_id as string | undefined) ?? null;
  const at = new Date();
  const outcome = await withTenant(deps.db, runtime.tenant, async (trx) => {
    const lock = await checkLock(trx, subject.userId, check.lockFactor, at);
    if (lock.locked) {
      await appendAudit(trx, { type: `${check.auditPrefix}.failed`, subject: subject.userId, clientId, ...facts, data: { reason: 'locked', flow: 'step-up' } });
      return { ok: false as const, formError: lockMessage(t, lock) };
    }
    const result = await check.verify(trx, { ctx, userId: subject.userId, body, t, tenantName: runtime.tenant.name, now: at });
    if (result.ok) {
      await recordSuccess(trx, subject.userId, check.lockFactor, at);
      await appendAudit(trx, { type: `${check.auditPrefix}.verified`, actor: subject.userId, subject: subject.userId, clientId, ...facts, data: { ...result.data, flow: 'step-up' } });
      return result;
    }
    await appendAudit(trx, { type: `${check.auditPrefix}.failed`, subject: subject.userId, clientId, ...facts, data: { reason: result.reason, flow: 'step-up' } });
    if (!result.counts) return { ok: false as const, formError: t.stepUp.notEnrolled };
    const { state, events } = await recordFailure(trx, { userId: subject.userId, factor: check.lockFactor, reason: result.reason, ip: facts.ip, userAgent: facts.userAgent, now: at });
    for (const event of events) await appendAudit(trx, { ...event, clientId, ...facts });
    return { ok: false as const, error: result.error, value: result.value, formError: state.locked ? lockMessage(t, state) : undefined };
  });
  if (!outcome.ok) {
    metric(ctx, flow, check.factor, 'failure');
    const { error, value, formError } = outcome as { error?: string; value?: string; formError?: string };
    return showFactorPage(ctx, flow, page, { error, value, formError }, 400);
  }
  metric(ctx, flow, check.factor, 'success');
  ctx.status = 303;
  ctx.redirect(await continueOrFinish(ctx, flow, deps, { userId: subject.userId, factor: check.factor, amr: outcome.amr, at }));
}

/** GET /interaction/:uid when a signed-in session must step up: what is asked, and a way on. */
export async function showStepUpIntro(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const subject = await subjectOrGone(ctx, flow, deps);
  const promptDetails = (flow.details?.prompt.details ?? {}) as { missing?: Factor[]; target_acr?: string };
  const decision = subject.decision;
  const missing = decision.outcome === 'prompt' ? decision.missing : (promptDetails.missing ?? []);
  const target = decision.outcome === 'prompt' ? decision.targetAcr : (promptDetails.target_acr ?? '');
  if (missing.length === 0) {
    // Already satisfied (say, a factor finished in another tab): nothing left to ask.
    ctx.status = 303;
    ctx.redirect(`${flow.base}/stepup/passkey`);
    return;
  }
  const level = flow.runtime.acrPolicy.values[target]?.description ?? target;
  metric(ctx, flow, missing[0]!, 'issued');
  htmlResponse(ctx, stepUpIntroPage(pageContext(ctx, flow), { clientName: flow.clientName ?? '', level, missing, next: `${flow.base}/stepup/${missing[0]}` }));
}

export function registerStepUpRoutes(router: Router, deps: InteractionDeps): void {
  // The passkey again (max_age, or an acr that wants a recent one): the sign-in page, whose
  // verification goes through continueOrFinish like every other factor.
  router.get('/interaction/:uid/stepup/passkey', async (ctx) => renderSignIn(ctx, await interactionFlow(ctx, deps)));
  for (const page of PAGES) {
    const path = `/interaction/:uid/stepup/${page.check.factor}`;
    router.get(path, async (ctx) => {
      const flow = await interactionFlow(ctx, deps);
      const subject = await subjectOrGone(ctx, flow, deps);
      if (!subject.enrolled.has(page.check.factor)) return showFactorPage(ctx, flow, page, { formError: flow.t.stepUp.notEnrolled }, 400);
      showFactorPage(ctx, flow, page);
    });
    router.post(path, async (ctx) => attempt(ctx, await interactionFlow(ctx, deps), deps, page));
  }
}

// ——— Account page ———

const FACTOR_NOTICES: Record<string, keyof Strings['factors']> = {
  'otp-enrolled': 'otpEnrolled',
  'otp-removed': 'otpRemoved',
  'otp-already': 'otpAlready',
  'nfc-enrolled': 'nfcEnrolled',
  'nfc-removed': 'nfcRemoved',
};

/** The account page's authenticator-app and NFC-card sections, for one signed-in user. */
export async function accountFactorSections(ctx: Context, trx: TenantDb, { userId, csrf, base }: { userId: string; csrf: string; base: string }): Promise<SafeHtml> {
  const t = stringsFor(ctx.get('accept-language'));
  const otp = await totpStoreFor(ctx).find(trx, userId);
  const createdAt = otp?.confirmed
    ? ((await trx.selectFrom('totp_factors').select('confirmed_at').where('user_id', '=', userId).executeTakeFirst())?.confirmed_at as Date | string | undefined)
    : undefined;
  const cards = await nfcStoreFor(ctx).listCards(trx, userId);
  const notice = typeof ctx.query.factor === 'string' && FACTOR_NOTICES[ctx.query.factor] ? (t.factors[FACTOR_NOTICES[ctx.query.factor]!] as string) : undefined;
  return accountFactorsSections({
    t,
    csrf,
    base,
    otp: otp?.confirmed ? { createdAt: new Date(createdAt ?? Date.now()) } : null,
    cards: cards.map((c) => ({ id: c.id, name: c.name, uid: c.uid, createdAt: c.createdAt })),
    notice,
  });
}

export function registerAccountFactorRoutes(router: Router, deps: InteractionDeps, requireSession: (ctx: Context, deps: InteractionDeps) => Promise<AccountContext | undefined>): void {
  registerTotpAccountRoutes(router, deps, requireSession);
  registerNfcAccountRoutes(router, deps, requireSession);
}
