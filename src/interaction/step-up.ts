// Step-up routing: after any factor is verified inside a flow (passkey, app code, NFC card, face),
// continueOrFinish records it, re-evaluates the authorization request against everything the user
// has proven, and either sends the browser to the next missing factor's page
// (`<flow.base>/stepup/<factor>`) or finishes the login with the acr and amr the policy grants.
//
// Where the proven factors live while the interaction runs:
// - a signed-in session (step-up): in session_factors under the session's uid, at once;
// - a first sign-in (no session yet): in pending_logins under `stepup:<flow.binding>`, until the
//   login finishes; the new session's amr and login time then stand for them (see sessionFactors).
//
// A factor page (the face pages too) lives at /t/<slug>/interaction/:uid/stepup/<factor>, finds
// who is stepping up with stepUpSubject(), verifies, and ends with
//   ctx.redirect(await continueOrFinish(ctx, flow, deps, { userId, factor: 'face', amr: ['face'], at }))
import type { Context } from 'koa';
import { withTenant, type TenantDb } from '../db/tenant-scope.ts';
import { evaluateStepUp, type Factor, type SessionFactor, type StepUpDecision, type StepUpRequest } from '../stepup/index.ts';
import { enrolledFactors, recordSessionFactor, sessionFactors } from '../stepup/session-factors.ts';
import type { Services } from '../services.ts';
import type { TenantRuntime } from '../tenancy/runtime.ts';
import type { Flow, InteractionDeps } from './flow.ts';

export interface FactorDone {
  userId: string;
  factor: Factor;
  /** amr values this factor contributes (amrForFactor). */
  amr: string[];
  /** When it was verified. */
  at: Date;
}

/** Who is stepping up in this interaction, and what the request still needs. */
export interface StepUpSubject {
  userId: string;
  decision: StepUpDecision;
  /** Factors the account could complete now. */
  enrolled: Set<Factor>;
  /** True when an existing session is being stepped up (false: a first sign-in in progress). */
  existingSession: boolean;
}

interface PendingStepUp {
  userId: string;
  factors: SessionFactor[];
}

const TTL_MS = 15 * 60 * 1000;
const pendingKey = (flow: Flow) => `stepup:${flow.binding}`;
const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/** The step-up request an interaction carries, read from its parameters and its client. */
export async function requestOf(flow: Flow): Promise<StepUpRequest> {
  const details = flow.details!;
  const params = details.params as Record<string, unknown>;
  const client = await flow.runtime.provider.Client.find(params.client_id as string);
  const metadata = (client?.metadata() ?? {}) as { default_acr_values?: string[]; default_max_age?: number };
  const fromParam = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  const acrValues = fromParam.length > 0 ? fromParam : (metadata.default_acr_values ?? []);
  let essentialAcr: string[] = [];
  if (typeof params.claims === 'string') {
    try {
      const acr = JSON.parse(params.claims)?.id_token?.acr as { essential?: boolean; value?: string; values?: string[] } | undefined;
      if (acr?.essential) essentialAcr = acr.values ?? (acr.value ? [acr.value] : []);
    } catch {
      // oidc-provider validated the claims parameter before the interaction began.
    }
  }
  const maxAge = params.max_age !== undefined ? Number(params.max_age) : metadata.default_max_age;
  const prompts = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  const minimum = flow.runtime.minimumAcr.get(params.client_id as string);
  const startedAt = (details as { iat?: number }).iat ?? epoch(new Date());
  return {
    ...(acrValues.length > 0 ? { acrValues } : {}),
    ...(essentialAcr.length > 0 ? { essentialAcr } : {}),
    ...(maxAge !== undefined && Number.isSafeInteger(maxAge) && maxAge >= 0 ? { maxAge } : {}),
    ...(prompts.includes('login') ? { promptLogin: true } : {}),
    ...(minimum ? { clientMinimumAcr: minimum } : {}),
    interactionStartedAt: startedAt,
  };
}

/** The signed-in session behind the interaction, with its login time (not in interaction details). */
async function existingSession(flow: Flow): Promise<{ uid: string; accountId: string; loginTs?: number; amr?: string[] } | undefined> {
  const session = flow.details?.session as { accountId?: string; uid?: string; cookie?: string; amr?: string[] } | undefined;
  if (!session?.accountId || !session.uid) return undefined;
  const stored = session.cookie ? await flow.runtime.provider.Session.find(session.cookie) : undefined;
  const loginTs = (stored as { loginTs?: number } | undefined)?.loginTs;
  const amr = (stored as { amr?: string[] } | undefined)?.amr ?? session.amr;
  return { uid: session.uid, accountId: session.accountId, ...(loginTs !== undefined ? { loginTs } : {}), ...(amr ? { amr } : {}) };
}

async function loadPendingStepUp(trx: TenantDb, key: string, now = new Date()): Promise<PendingStepUp | undefined> {
  const row = await trx.selectFrom('pending_logins').select(['data']).where('binding', '=', key).where('expires_at', '>', now).executeTakeFirst();
  if (!row) return undefined;
  return (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as PendingStepUp;
}

async function savePendingStepUp(trx: TenantDb, key: string, pending: PendingStepUp, now = new Date()): Promise<void> {
  const values = { user_id: pending.userId, data: JSON.stringify(pending), expires_at: new Date(now.getTime() + TTL_MS) };
  await trx
    .insertInto('pending_logins')
    .values({ binding: key, ...values })
    .onConflict((oc) => oc.column('binding').doUpdateSet(values))
    .execute();
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
  const session = await existingSession(flow);
  return withTenant(deps.db, flow.runtime.tenant, async (trx) => {
    const pending = await loadPendingStepUp(trx, pendingKey(flow), now);
    if (pending) return { userId: pending.userId, ...(await evaluate(trx, flow, pending.userId, pending.factors, now)), existingSession: false };
    if (!session) return undefined;
    const factors = await sessionFactors(trx, { sessionUid: session.uid, userId: session.accountId, ...(session.loginTs !== undefined ? { loginTs: session.loginTs } : {}), ...(session.amr ? { amr: session.amr } : {}) });
    return { userId: session.accountId, ...(await evaluate(trx, flow, session.accountId, factors, now)), existingSession: true };
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
    // The account page's own sign-in asks for no acr: whatever the factor proves is the login.
    const { decision } = await withTenant(deps.db, flow.runtime.tenant, (trx) => evaluate(trx, flow, done.userId, [entry], done.at));
    const acr = decision.outcome === 'pass' ? decision.acr : flow.runtime.acrPolicy.defaultAcr;
    return flow.complete({ userId: done.userId, amr: decision.outcome === 'pass' ? decision.amr : done.amr, acr, authTime });
  }
  const session = await existingSession(flow);
  const stepping = session && session.accountId === done.userId ? session : undefined;
  const outcome = await withTenant(deps.db, flow.runtime.tenant, async (trx) => {
    let factors: SessionFactor[];
    if (stepping) {
      await recordSessionFactor(trx, { sessionUid: stepping.uid, userId: done.userId, factor: done.factor, at: done.at, amr: done.amr });
      factors = await sessionFactors(trx, {
        sessionUid: stepping.uid,
        userId: done.userId,
        ...(stepping.loginTs !== undefined ? { loginTs: stepping.loginTs } : {}),
        ...(stepping.amr ? { amr: stepping.amr } : {}),
      });
    } else {
      const pending = await loadPendingStepUp(trx, pendingKey(flow), done.at);
      // Another account signing in within the same interaction starts over.
      const earlier = pending && pending.userId === done.userId ? pending.factors.filter((f) => f.factor !== done.factor) : [];
      factors = [...earlier, entry];
      await savePendingStepUp(trx, pendingKey(flow), { userId: done.userId, factors }, done.at);
    }
    const { decision } = await evaluate(trx, flow, done.userId, factors, done.at);
    if (decision.outcome === 'pass') {
      if (stepping) {
        // The login below replaces the session's amr and login time: give the factors that only
        // the old amr implied their own rows first, so their original times survive.
        for (const factor of factors) {
          if (factor.factor !== done.factor) {
            await recordSessionFactor(trx, { sessionUid: stepping.uid, userId: done.userId, factor: factor.factor, at: new Date(factor.at * 1000), amr: factor.amr });
          }
        }
      }
      await trx.deleteFrom('pending_logins').where('binding', '=', pendingKey(flow)).execute();
    }
    return decision;
  });
  if (outcome.outcome === 'prompt') {
    (ctx.state.services as Services).metrics.stepUpChallenges.inc({ tenant: flow.runtime.tenant.slug, factor: outcome.missing[0]!, outcome: 'issued' });
    return `${flow.base}/stepup/${outcome.missing[0]}`;
  }
  if (outcome.outcome === 'unmet') {
    return flow.runtime.provider.interactionResult(ctx.req, ctx.res, { error: outcome.error, error_description: outcome.description }, { mergeWithLastSubmission: false });
  }
  return flow.complete({ userId: done.userId, amr: outcome.amr, acr: outcome.acr, authTime });
}

/** Factor secrets (TOTP seeds, card keys) sealed with the installation's Fernet key ring. */
export function factorSecretBox(ctx: Context): { encrypt(plaintext: string): string; decrypt(token: string): string } {
  const ring = (ctx.state.services as Services).face.ring;
  return { encrypt: (plaintext) => ring.encrypt(Buffer.from(plaintext, 'utf8')), decrypt: (token) => ring.decrypt(token).toString('utf8') };
}

/** The stepup.ip and stepup.account rate limits for one attempt; the longest wait when refused. */
export async function consumeStepUpLimits(ctx: Context, runtime: TenantRuntime, userId: string): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const { limits } = ctx.state.services as Services;
  const tenant = { slug: runtime.tenant.slug, settings: runtime.tenant.settings };
  const byIp = await limits.consume('stepup.ip', ctx.ip, { tenant });
  if (!byIp.allowed) return byIp;
  return limits.consume('stepup.account', userId, { tenant });
}
