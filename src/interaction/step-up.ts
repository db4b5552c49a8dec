// Step-up routing: after any factor is verified inside a flow (passkey, app code, NFC card, face),
// continueOrFinish records it, re-evaluates the authorization request against everything the user
// has proven, and either sends the browser to the next missing factor's page
// (`<flow.base>/stepup/<factor>`) or finishes the login with the acr and amr the policy grants.
//
// Every way a login finishes (sign-in, sign-up, recovery, step-up, the test helper) comes through
// here, so one evaluation of the request decides: finish with the acr actually reached, prompt for
// the missing factors, or end at the client with unmet_authentication_requirements.
//
// Where the proven factors live while the interaction runs:
// - a signed-in session (step-up): in session_factors under the session's uid, at once;
// - a first sign-in (no session yet): in pending_logins under `stepup:<flow.binding>`, until the
//   login finishes; the interaction result then carries them and the login-prompt check records
//   them under the new session's uid (src/oidc/step-up-check.ts). Nothing is inferred from amr.
//
// A factor page (the face pages too) lives at /t/<slug>/interaction/:uid/stepup/<factor>, finds
// who is stepping up with stepUpSubject(), verifies, and ends with
//   ctx.redirect(await continueOrFinish(ctx, flow, deps, { userId, factor: 'face', amr: ['face'], at }))
import type { Context } from 'koa';
import { withTenant, type TenantDb } from '../db/tenant-scope.ts';
import { evaluateStepUp, type Factor, type SessionFactor, type StepUpDecision, type StepUpRequest } from '../stepup/index.ts';
import { byPromptOrder } from '../stepup/factors.ts';
import { enrolledFactors, recordSessionFactor, sessionFactors } from '../stepup/session-factors.ts';
import type { Services } from '../services.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import type { Flow, InteractionDeps } from './flow.ts';
import { stepUpRequestOf } from '../oidc/step-up-request.ts';
import { getPendingValue, putPendingValue, takePendingValue } from './pending.ts';

export interface FactorDone {
  userId: string;
  factor: Factor;
  /** amr values this factor contributes (amrForFactor). */
  amr: string[];
  /** When it was verified. */
  at: Date;
  /** The account was created in this interaction: an unmet requirement is explained on a page first. */
  newAccount?: boolean;
}

/** Who is stepping up in this interaction, and what the request still needs. */
export interface StepUpSubject {
  userId: string;
  decision: StepUpDecision;
  /** Factors the account could complete now. */
  enrolled: Set<Factor>;
  /** True when an existing session is being stepped up (false: a first sign-in in progress). */
  existingSession: boolean;
  /** The factors proven so far that count for this request's evaluation. */
  factors: SessionFactor[];
}

interface PendingStepUp {
  userId: string;
  factors: SessionFactor[];
}

const pendingKey = (flow: Flow) => `stepup:${flow.binding}`;
const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/** The step-up request an interaction carries, read from its parameters and its client. */
export async function requestOf(flow: Flow): Promise<StepUpRequest> {
  const details = flow.details!;
  const client = await flow.runtime.oidc.client(details.clientId);
  return stepUpRequestOf(
    details.params,
    { default_acr_values: client?.defaultAcrValues, default_max_age: client?.defaultMaxAge },
    { minimumAcr: flow.runtime.minimumAcr.get(details.clientId), interactionStartedAt: details.startedAt },
  );
}

/** The signed-in session behind the interaction. */
function existingSession(flow: Flow): { uid: string; accountId: string } | undefined {
  return flow.details?.session;
}

async function loadPendingStepUp(trx: TenantDb, key: string, now = new Date()): Promise<PendingStepUp | undefined> {
  return (await getPendingValue(trx, key, now)) as PendingStepUp | undefined;
}

async function savePendingStepUp(trx: TenantDb, key: string, pending: PendingStepUp, now = new Date()): Promise<void> {
  await putPendingValue(trx, key, pending, { userId: pending.userId, now });
}

async function evaluate(trx: TenantDb, flow: Flow, userId: string, factors: SessionFactor[], now: Date) {
  const enrolled = await enrolledFactors(trx, userId);
  const requested = flow.kind === 'interaction' ? await requestOf(flow) : {};
  const decision = evaluateStepUp({ policy: flow.runtime.acrPolicy, requested, session: { factors }, enrolled, now: epoch(now) });
  return { decision, enrolled };
}

/**
 * Who is stepping up in this interaction: the signed-in session's account, or the account that
 * proved a first factor earlier in this same interaction. Undefined when nobody has yet.
 */
export async function stepUpSubject(flow: Flow, deps: InteractionDeps, now = new Date()): Promise<StepUpSubject | undefined> {
  if (flow.kind !== 'interaction') return undefined;
  const session = existingSession(flow);
  return withTenant(deps.db, flow.runtime.tenant, async (trx) => {
    const pending = await loadPendingStepUp(trx, pendingKey(flow), now);
    if (pending) return { userId: pending.userId, ...(await evaluate(trx, flow, pending.userId, pending.factors, now)), existingSession: false, factors: pending.factors };
    if (!session) return undefined;
    const factors = await sessionFactors(trx, { sessionUid: session.uid, userId: session.accountId });
    return { userId: session.accountId, ...(await evaluate(trx, flow, session.accountId, factors, now)), existingSession: true, factors };
  });
}

/**
 * Records a verified factor and returns where the browser goes next: the next missing factor's
 * page, or (via flow.complete) back to the client with the acr and amr the policy grants.
 */
export async function continueOrFinish(ctx: Context, flow: Flow, deps: InteractionDeps, done: FactorDone): Promise<string> {
  const authTime = epoch(done.at);
  const entry: SessionFactor = { factor: done.factor, at: authTime, amr: done.amr };
  if (flow.kind !== 'interaction') {
    // The account page's own sign-in asks for no acr: whatever the factor proves is the login,
    // and the factor is recorded with the new account-page session (fresh proof reads it).
    const { decision } = await withTenant(deps.db, flow.runtime.tenant, (trx) => evaluate(trx, flow, done.userId, [entry], done.at));
    const acr = decision.outcome === 'pass' ? decision.acr : flow.runtime.acrPolicy.defaultAcr;
    return flow.complete({ userId: done.userId, amr: decision.outcome === 'pass' ? decision.amr : done.amr, acr, authTime, factors: [entry] });
  }
  const session = existingSession(flow);
  const stepping = session && session.accountId === done.userId ? session : undefined;
  const outcome = await withTenant(deps.db, flow.runtime.tenant, async (trx) => {
    let factors: SessionFactor[];
    if (stepping) {
      await recordSessionFactor(trx, { sessionUid: stepping.uid, userId: done.userId, factor: done.factor, at: done.at, amr: done.amr });
      factors = await sessionFactors(trx, { sessionUid: stepping.uid, userId: done.userId });
    } else {
      const pending = await loadPendingStepUp(trx, pendingKey(flow), done.at);
      // Another account signing in within the same interaction starts over.
      const earlier = pending && pending.userId === done.userId ? pending.factors.filter((f) => f.factor !== done.factor) : [];
      factors = [...earlier, entry];
    }
    const { decision } = await evaluate(trx, flow, done.userId, factors, done.at);
    // Kept only while the login goes on: a first factor that already passes writes nothing (its
    // transaction stays read-only, no second durable commit per sign-in; issue 16), and a pass
    // removes what earlier factors kept.
    if (decision.outcome === 'pass') await takePendingValue(trx, pendingKey(flow));
    else if (!stepping) await savePendingStepUp(trx, pendingKey(flow), { userId: done.userId, factors }, done.at);
    if (decision.outcome === 'unmet') await saveUnmet(trx, flow, { description: decision.description, newAccount: done.newAccount === true }, done.at);
    return { decision, factors };
  });
  const { decision } = outcome;
  if (decision.outcome === 'prompt') {
    deps.services.metrics.stepUpChallenges.inc({ tenant: flow.runtime.tenant.slug, factor: decision.missing[0]!, outcome: 'issued' });
    return `${flow.base}/stepup/${decision.missing[0]}`;
  }
  // The user is told on a page what the application needs and how to add it; the client gets
  // unmet_authentication_requirements when they click through (leaveRequirements).
  if (decision.outcome === 'unmet') return `${flow.base}/requirements`;
  // Only factors proven in this interaction travel with the login: a stepped-up session has its
  // earlier ones recorded already.
  const proven = stepping ? [entry] : outcome.factors;
  return flow.complete({ userId: done.userId, amr: decision.amr, acr: decision.acr, authTime, factors: proven });
}

/** Ends the interaction at the client with unmet_authentication_requirements. */
export function endUnmet(ctx: Context, flow: Flow, description: string): Promise<string> {
  return flow.runtime.oidc.fail(ctx.req, ctx.res, 'unmet_authentication_requirements', description);
}

const unmetKey = (flow: Flow) => `unmet:${flow.binding}`;

/** Why this interaction cannot continue to the client, kept for the requirements page. */
export interface UnmetRequirement {
  description: string;
  /** The account was created in this interaction (the page words it differently). */
  newAccount: boolean;
}

async function saveUnmet(trx: TenantDb, flow: Flow, unmet: UnmetRequirement, now: Date): Promise<void> {
  await putPendingValue(trx, unmetKey(flow), unmet, { userId: null, now });
}

/** A signed-in session asked for what it can never give (step-up intro): save why; the page's URL. */
export async function showUnmet(flow: Flow, deps: InteractionDeps, description: string, now = new Date()): Promise<string> {
  await withTenant(deps.db, flow.runtime.tenant, (trx) => saveUnmet(trx, flow, { description, newAccount: false }, now));
  return `${flow.base}/requirements`;
}

/** Why this interaction cannot continue to the client (saved by continueOrFinish), if it cannot. */
export async function loadUnmetRequirement(deps: InteractionDeps, flow: Flow, now = new Date()): Promise<UnmetRequirement | undefined> {
  const data = (await withTenant(deps.db, flow.runtime.tenant, (trx) => getPendingValue(trx, unmetKey(flow), now))) as Partial<UnmetRequirement> | undefined;
  if (!data) return undefined;
  return typeof data.description === 'string' ? { description: data.description, newAccount: data.newAccount === true } : undefined;
}

/** The description alone (see loadUnmetRequirement). */
export async function loadUnmet(deps: InteractionDeps, flow: Flow, now = new Date()): Promise<string | undefined> {
  return (await loadUnmetRequirement(deps, flow, now))?.description;
}

/**
 * "Try another method": enrolled factors, other than the one on this page and those still needed
 * after it, that would also satisfy the request or bring it a step closer — evaluated by the same
 * policy, as if each had just been completed.
 */
export async function otherWays(flow: Flow, subject: StepUpSubject, current: Factor, now = new Date()): Promise<Factor[]> {
  const { decision } = subject;
  if (decision.outcome !== 'prompt' || flow.kind !== 'interaction') return [];
  const requested = await requestOf(flow);
  const at = epoch(now);
  const trial = (factor: Factor) =>
    evaluateStepUp({ policy: flow.runtime.acrPolicy, requested, session: { factors: [...subject.factors, { factor, at, amr: [] }] }, enrolled: subject.enrolled, now: at });
  // What would still be asked for after this page's factor: a later step, not an alternative.
  const afterCurrent = trial(current);
  const later = afterCurrent.outcome === 'prompt' ? afterCurrent.missing : [];
  return [...subject.enrolled]
    .filter((factor) => factor !== current && factor !== 'recovery_code' && !later.includes(factor))
    .filter((factor) => {
      const outcome = trial(factor);
      return outcome.outcome === 'pass' || (outcome.outcome === 'prompt' && outcome.missing.length < decision.missing.length);
    })
    .sort(byPromptOrder);
}

/** Factor secrets (TOTP seeds, card keys) sealed with the installation's Fernet key ring. */
export function factorSecretBox(services: Services): { encrypt(plaintext: string): string; decrypt(token: string): string } {
  const ring = services.keys.factorSecrets;
  return { encrypt: (plaintext) => ring.encrypt(Buffer.from(plaintext, 'utf8')), decrypt: (token) => ring.decrypt(token).toString('utf8') };
}

/**
 * The stepup.ip and stepup.account rate limits for one attempt, charged all or none in one
 * round trip to Redis (consumeAll): an attempt refused for the account does not also use up the
 * address's allowance, and the reverse.
 */
export async function consumeStepUpLimits(services: Services, ip: string, runtime: TenantRuntime, userId: string): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const tenant = { slug: runtime.tenant.slug, settings: runtime.tenant.settings };
  return services.limits.consumeAll([{ policy: 'stepup.ip', key: ip }, { policy: 'stepup.account', key: userId }], { tenant });
}
