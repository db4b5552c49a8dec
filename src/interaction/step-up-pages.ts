// The step-up pages of an interaction, /t/<slug>/interaction/:uid/stepup/<factor>. Each attempt
// runs the one pipeline (attempt.ts) for the factor's Factor; a success goes on through
// continueOrFinish. The face factor's pages (face-pages.ts) end the same way.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { HttpError } from '../errors/http-errors.ts';
import type { Services } from '../services.ts';
import type { LockState } from '../lockout/index.ts';
import type { Factor } from '../factors/contract.ts';
import type { FactorName } from '../factors/names.ts';
import { createTotpFactor } from '../factors/totp/factor.ts';
import { createNfcFactor, tapOf } from '../factors/nfc/factor.ts';
import { nfcStepUpPage, otpStepUpPage, stepUpIntroPage } from '../../ui/pages/step-up.tsx';
import { fill, waitArguments, type Strings } from '../../views/strings/index.ts';
import { html, type SafeHtml } from '../../ui/html.ts';
import type { PageContext } from '../../ui/pages/interaction.tsx';
import { interactionFlow, pageContext, type Flow, type InteractionDeps } from './flow.ts';
import { htmlResponse, readBody, requestFacts } from './http.ts';
import { respondRateLimited } from '../http/error-responder.ts';
import { renderSignIn } from './sign-in.ts';
import { runAttempt } from './attempt.ts';
import { consumeStepUpLimits, continueOrFinish, factorSecretBox, otherWays, showUnmet, stepUpSubject, type StepUpSubject } from './step-up.ts';

type PageState = { error?: string | undefined; formError?: string | SafeHtml | undefined; value?: string | undefined; others?: string[]; clientName?: string | undefined };

interface StepUpPage {
  name: 'otp' | 'nfc';
  factor(services: Services): Factor<Record<string, string>>;
  input(body: Record<string, unknown>): Record<string, string>;
  /** The message for a failed attempt's reason code. */
  message(t: Strings, reason: string, tenantName: string): string;
  render(ctx: PageContext, state: PageState): string;
}

export function otpMessage(t: Strings, reason: string, tenantName: string): string {
  const messages = t.stepUp.otp as Record<string, string>;
  return fill(messages[reason] ?? t.errors.generic, { tenant: tenantName });
}

export function tapMessage(t: Strings, reason: string): string {
  return t.stepUp.nfc.reasons[reason] ?? t.errors.generic;
}

const PAGES: StepUpPage[] = [
  {
    name: 'otp',
    factor: (services) => createTotpFactor(factorSecretBox(services)) as Factor<Record<string, string>>,
    input: (body) => ({ code: typeof body.code === 'string' ? body.code : '' }),
    message: otpMessage,
    render: otpStepUpPage,
  },
  {
    name: 'nfc',
    factor: (services) => createNfcFactor(factorSecretBox(services)) as Factor<Record<string, string>>,
    input: (body) => ({ tap: tapOf(body.tap) }),
    message: (t, reason) => tapMessage(t, reason),
    render: nfcStepUpPage,
  },
];

async function subjectOrGone(flow: Flow, deps: InteractionDeps): Promise<StepUpSubject> {
  const subject = await stepUpSubject(flow, deps);
  if (!subject) throw new HttpError(400, 'step_up_unavailable', flow.t.stepUp.title, flow.t.stepUp.gone);
  return subject;
}

/** The lockout refusal as text: how long, and until when (UTC, for places without a script). */
export function lockMessage(t: Strings, state: LockState, now = new Date()): string {
  if (state.disabled) return t.stepUp.disabled;
  const until = state.until ?? now;
  return fill(t.stepUp.locked, { minutes: minutesUntil(until, now), time: `${until.toISOString().slice(11, 16)} UTC` });
}

/** The same on a page: the time is a <time> that local-time.js shows in the reader's own zone. */
export function lockNotice(t: Strings, state: LockState, now = new Date()): SafeHtml {
  if (state.disabled) return html`${t.stepUp.disabled}`;
  const until = state.until ?? now;
  const [before, after = ''] = fill(t.stepUp.locked, { minutes: minutesUntil(until, now) }).split('{time}');
  return html`${before}<time datetime="${until.toISOString()}" data-local="time">${until.toISOString().slice(11, 16)} UTC</time>${after}`;
}

const minutesUntil = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));

function metric(deps: InteractionDeps, flow: Flow, factor: FactorName, outcome: string): void {
  deps.services.metrics.stepUpChallenges.inc({ tenant: flow.runtime.tenant.slug, factor, outcome });
}

/** A factor's page, with the other factors that would also do and the way back to the client. */
async function showFactorPage(ctx: Context, flow: Flow, page: StepUpPage, subject: StepUpSubject, state: PageState = {}, status = 200): Promise<void> {
  const others = await otherWays(flow, subject, page.name);
  htmlResponse(ctx, page.render(pageContext(ctx, flow), { others, clientName: flow.clientName, ...state }), status);
}

async function attempt(ctx: Context, flow: Flow, deps: InteractionDeps, page: StepUpPage): Promise<void> {
  const body = await readBody(ctx);
  const { t, runtime } = flow;
  const subject = await subjectOrGone(flow, deps);
  const input = page.input(body);
  const outcome = await runAttempt(deps.db, runtime.tenant, {
    factor: page.factor(deps.services),
    userId: subject.userId,
    input,
    facts: requestFacts(ctx),
    clientId: flow.details?.clientId ?? null,
    flow: 'step-up',
    limit: () => consumeStepUpLimits(deps.services, ctx.ip, runtime, subject.userId),
    metric: (result) => metric(deps, flow, page.name, result === 'success' ? 'success' : 'failure'),
  });
  if (!outcome.ok) {
    switch (outcome.refusal) {
      case 'not_enrolled':
        return showFactorPage(ctx, flow, page, subject, { formError: t.stepUp.notEnrolled }, 400);
      case 'rate_limited':
        return respondRateLimited(ctx, outcome.retryAfterSeconds, {
          detail: fill(t.stepUp.tooMany, waitArguments(outcome.retryAfterSeconds)),
          page: () => showFactorPage(ctx, flow, page, subject, { formError: fill(t.stepUp.tooMany, waitArguments(outcome.retryAfterSeconds)) }, 429),
        });
      case 'locked':
        return showFactorPage(ctx, flow, page, subject, { formError: lockNotice(t, outcome.lock) }, 400);
      case 'failed':
        return showFactorPage(
          ctx,
          flow,
          page,
          subject,
          // One error at a time: once this failure locked the factor, only the lock is said.
          outcome.lock.locked
            ? { formError: lockNotice(t, outcome.lock) }
            : { error: page.message(t, outcome.reason, runtime.tenant.name), ...(page.name === 'nfc' ? { value: input.tap } : {}) },
          400,
        );
    }
  }
  ctx.status = 303;
  ctx.redirect(await continueOrFinish(ctx, flow, deps, { userId: subject.userId, factor: page.name, amr: outcome.amr, at: outcome.at }));
}

/** GET /interaction/:uid when a signed-in session must step up: what is asked, and a way on. */
export async function showStepUpIntro(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const subject = await subjectOrGone(flow, deps);
  const promptDetails = (flow.details?.prompt.details ?? {}) as { missing?: FactorName[]; target_acr?: string };
  const decision = subject.decision;
  if (decision.outcome === 'unmet') {
    // Nothing this account has enrolled can meet the request: a page says what the application
    // needs and how to add it, before the client hears unmet_authentication_requirements.
    ctx.status = 303;
    ctx.redirect(await showUnmet(flow, deps, decision.description));
    return;
  }
  const missing = decision.outcome === 'prompt' ? decision.missing : (promptDetails.missing ?? []);
  const target = decision.outcome === 'prompt' ? decision.targetAcr : (promptDetails.target_acr ?? '');
  if (missing.length === 0) {
    // Already satisfied (say, a factor finished in another tab): nothing left to ask.
    ctx.status = 303;
    ctx.redirect(`${flow.base}/stepup/passkey`);
    return;
  }
  const level = flow.runtime.acrPolicy.values[target]?.description ?? target;
  metric(deps, flow, missing[0]!, 'issued');
  const others = await otherWays(flow, subject, missing[0]!);
  htmlResponse(ctx, stepUpIntroPage(pageContext(ctx, flow), { clientName: flow.clientName ?? '', level, missing, next: `${flow.base}/stepup/${missing[0]}`, others }));
}

export function registerStepUpRoutes(router: Router, deps: InteractionDeps): void {
  // The passkey again (max_age, an acr that wants a recent one, or after a recovery code): the
  // sign-in page, whose verification goes through continueOrFinish like every other factor.
  router.get('/interaction/:uid/stepup/passkey', async (ctx) => renderSignIn(ctx, await interactionFlow(ctx, deps)));
  for (const page of PAGES) {
    const path = `/interaction/:uid/stepup/${page.name}`;
    router.get(path, async (ctx) => {
      const flow = await interactionFlow(ctx, deps);
      const subject = await subjectOrGone(flow, deps);
      if (!subject.enrolled.has(page.name)) return showFactorPage(ctx, flow, page, subject, { formError: flow.t.stepUp.notEnrolled }, 400);
      await showFactorPage(ctx, flow, page, subject);
    });
    router.post(path, async (ctx) => attempt(ctx, await interactionFlow(ctx, deps), deps, page));
  }
}
