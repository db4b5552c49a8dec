// Decides, for one authorization request, whether the session already meets the requested
// authentication level (pass, with the acr and amr to issue), which factors to ask for next
// (prompt), or that this account can never meet it (unmet_authentication_requirements, OIDC Core
// 3.1.2.6 / RFC 9470). acr values are compared by strength: meeting a stronger value meets every
// weaker one (see acr-policy.ts).
//
// Recovery: a session whose factors include a recovery code but no passkey began with a recovery
// code. It is capped at RECOVERY_ACR, below every value of the vocabulary, until the user signs in
// with a passkey again; it passes only a request that asks for nothing.
import { strengthOf, type AcrPolicy } from './acr-policy.ts';
import { FACTORS, PROMPT_ORDER, type Factor } from './factors.ts';
import { missingFactors, requirementMet } from './requirement.ts';

/** The acr of a session that began with a recovery code (never part of a tenant's vocabulary). */
export const RECOVERY_ACR = 'urn:facet:acr:recovery';

export interface StepUpRequest {
  /** acr_values, in order of preference (voluntary). */
  acrValues?: string[];
  /** Values of an essential acr claim request; the issued acr must be one of them. */
  essentialAcr?: string[];
  /** max_age in seconds: factors completed longer ago, before this interaction, do not count. */
  maxAge?: number;
  /** prompt=login: nothing completed before this interaction counts. */
  promptLogin?: boolean;
  /** The client's configured floor; requests below it are raised to it. */
  clientMinimumAcr?: string;
  /**
   * When this interaction began (epoch seconds). Factors completed since then always count, so
   * maxAge and promptLogin do not ask again for what the user just did. Required with promptLogin.
   */
  interactionStartedAt?: number;
}

export interface SessionFactor {
  factor: Factor;
  /** Completion time, epoch seconds. */
  at: number;
  /** amr values it contributed (see amrForFactor). */
  amr: string[];
}

export interface EvaluateStepUpOptions {
  policy: AcrPolicy;
  requested?: StepUpRequest;
  session: { factors: readonly SessionFactor[] };
  /** Factors the account has enrolled and could complete now. */
  enrolled: ReadonlySet<Factor>;
  /** Epoch seconds (default: the clock). */
  now?: number;
}

export type StepUpDecision =
  | { outcome: 'pass'; acr: string; amr: string[] }
  | { outcome: 'prompt'; missing: Factor[]; targetAcr: string }
  | { outcome: 'unmet'; error: 'unmet_authentication_requirements'; description: string };

const unmet = (description: string): StepUpDecision => ({ outcome: 'unmet', error: 'unmet_authentication_requirements', description });

export function evaluateStepUp({ policy, requested = {}, session, enrolled, now = Math.floor(Date.now() / 1000) }: EvaluateStepUpOptions): StepUpDecision {
  const { acrValues = [], essentialAcr = [], maxAge, promptLogin = false, clientMinimumAcr, interactionStartedAt } = requested;
  if (maxAge !== undefined && (!Number.isSafeInteger(maxAge) || maxAge < 0)) throw new RangeError('maxAge must be a non-negative integer');
  // Without the interaction start every factor, even one completed a moment ago, would predate
  // "now" and prompt=login would ask again forever.
  if (promptLogin && interactionStartedAt === undefined) throw new TypeError('promptLogin needs interactionStartedAt');

  const counted = session.factors.filter((entry) => {
    if (!FACTORS.includes(entry.factor) || !Number.isFinite(entry.at)) return false;
    if (interactionStartedAt !== undefined && entry.at >= interactionStartedAt) return true;
    return !promptLogin && (maxAge === undefined || now - entry.at <= maxAge);
  });
  const latest = new Map<Factor, number>();
  for (const { factor, at } of counted) latest.set(factor, Math.max(at, latest.get(factor) ?? -Infinity));

  // What must be reached: the requested values (or the default), never below the client's floor.
  let floor = 0;
  if (clientMinimumAcr !== undefined) {
    floor = strengthOf(policy, clientMinimumAcr);
    if (floor < 0) return unmet(`the client's minimum acr ${clientMinimumAcr} is not offered by this tenant`);
  }
  const essential = essentialAcr.length > 0;
  const known = (essential ? essentialAcr : acrValues).filter((acr, i, all) => strengthOf(policy, acr) >= 0 && all.indexOf(acr) === i);
  if (essential && known.length === 0) return unmet(`none of the essential acr values (${essentialAcr.join(', ')}) is offered by this tenant`);
  let wanted = known.filter((acr) => strengthOf(policy, acr) >= floor);
  if (wanted.length === 0) {
    if (essential) return unmet(`the essential acr values are all weaker than this client's minimum ${clientMinimumAcr}`);
    wanted = [strengthOf(policy, policy.defaultAcr) >= floor ? policy.defaultAcr : policy.order[floor]];
  }
  const needed = Math.min(...wanted.map((acr) => strengthOf(policy, acr)));

  // Began with a recovery code: nothing of the vocabulary counts as reached until a passkey.
  const capped = latest.has('recovery_code') && !latest.has('passkey');
  const asksForNothing = acrValues.length === 0 && !essential && clientMinimumAcr === undefined;
  if (capped && asksForNothing) return { outcome: 'pass', acr: RECOVERY_ACR, amr: amrOf(counted) };

  // The strongest value the session meets (-1: none).
  let reached = -1;
  for (let i = policy.order.length - 1; i >= 0 && reached < 0 && !capped; i--) {
    if (requirementMet(policy.values[policy.order[i]], latest, now)) reached = i;
  }
  if (reached >= needed) {
    // An essential request must get one of its own values back: the strongest one reached.
    const acr = essential
      ? wanted.filter((value) => strengthOf(policy, value) <= reached).sort((a, b) => strengthOf(policy, b) - strengthOf(policy, a))[0]
      : policy.order[reached];
    return { outcome: 'pass', acr, amr: amrOf(counted) };
  }

  // Prompt for the first value, in order of preference, the account can reach; stronger values
  // than those requested also do, weakest first.
  const stronger = policy.order.filter((acr, i) => i >= needed && !wanted.includes(acr));
  for (const target of [...wanted, ...stronger]) {
    const missing = missingFactors(policy.values[target], latest, enrolled, now);
    if (missing && missing.length > 0) return { outcome: 'prompt', missing, targetAcr: target };
  }
  return unmet(`this account has no enrolled factors that can reach ${wanted.join(' or ')}`);
}

function amrOf(counted: readonly SessionFactor[]): string[] {
  const sorted = [...counted].sort((a, b) => PROMPT_ORDER.indexOf(a.factor) - PROMPT_ORDER.indexOf(b.factor));
  const amr = [...new Set(sorted.flatMap((entry) => entry.amr))];
  // RFC 8176 "mfa": more than one factor, counted by distinct factor kinds, not by entries. A
  // recovery code only recovers an account; it is not a second factor.
  if (new Set(counted.map((entry) => entry.factor).filter((f) => f !== 'recovery_code')).size > 1 && !amr.includes('mfa')) amr.push('mfa');
  return amr;
}
