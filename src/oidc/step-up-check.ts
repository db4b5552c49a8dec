// Enforces acr in the authorization flow: plain acr_values, essential acr claims, the client's
// default_acr_values and minimum acr, max_age and prompt=login. Added to oidc-provider's login
// prompt as one more check; the interaction pages then ask for exactly the missing factors.
//
// It also records, when a login comes back from an interaction, the factors that login proved
// under the session's uid (session_factors): the session's own record of what it has proven,
// which later requests are judged on (never its amr).
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { withTenant, type TenantScope } from '../db/tenant-scope.ts';
import { evaluateStepUp, type AcrPolicy, type SessionFactor, type StepUpDecision } from '../stepup/index.ts';
import { enrolledFactors, recordSessionFactor, sessionFactors } from '../stepup/session-factors.ts';
import { isFactorName } from '../factors/names.ts';
import { stepUpRequestOf } from './step-up-request.ts';
import type { RootDb } from '../db/client.ts';

export interface StepUpCheckDeps {
  db: RootDb;
  scope: TenantScope;
  policy: AcrPolicy;
  minimumAcr: Map<string, string>;
  now: () => number;
}

/** The key under which an interaction result carries the factors its login proved. */
export const LOGIN_FACTORS = 'facetFactors';

const asksForAcr = (request: { acrValues?: string[]; essentialAcr?: string[]; clientMinimumAcr?: string }) =>
  Boolean(request.acrValues?.length || request.essentialAcr?.length || request.clientMinimumAcr);

function loginFactorsOf(result: unknown): SessionFactor[] {
  const factors = (result as Record<string, unknown> | undefined)?.[LOGIN_FACTORS];
  if (!Array.isArray(factors)) return [];
  return factors.filter(
    (f): f is SessionFactor => isFactorName(f?.factor) && Number.isFinite(f?.at) && Array.isArray(f?.amr) && f.amr.every((v: unknown) => typeof v === 'string'),
  );
}

export function createStepUpPolicy(deps: StepUpCheckDeps) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  // First of the login checks, so it runs whatever a later check decides.
  login.checks.add(
    new Check('record_login_factors', 'records the factors a finished login proved', async (ctx: KoaContextWithOIDC) => {
      const session = ctx.oidc.session;
      const finished = ctx.oidc.result?.login as { accountId?: string } | undefined;
      if (!session?.uid || !finished?.accountId || session.accountId !== finished.accountId) return Check.NO_NEED_TO_PROMPT;
      const factors = loginFactorsOf(ctx.oidc.result);
      if (factors.length === 0) return Check.NO_NEED_TO_PROMPT;
      await withTenant(deps.db, deps.scope, async (trx) => {
        for (const factor of factors) {
          await recordSessionFactor(trx, { sessionUid: session.uid, userId: finished.accountId!, factor: factor.factor, at: new Date(factor.at * 1000), amr: factor.amr });
        }
      });
      return Check.NO_NEED_TO_PROMPT;
    }),
    0,
  );
  login.checks.add(
    new Check(
      'acr_step_up',
      'additional authentication is required for the requested acr',
      async (ctx: KoaContextWithOIDC) => {
        const session = ctx.oidc.session;
        if (!session?.accountId) return Check.NO_NEED_TO_PROMPT;
        // Coming back from an interaction that already evaluated and finished this request.
        if (ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
        const client = ctx.oidc.client!;
        const request = stepUpRequestOf(ctx.oidc.params as Record<string, unknown>, client.metadata() as unknown as Record<string, never>, {
          minimumAcr: deps.minimumAcr.get(client.clientId),
          interactionStartedAt: Math.floor(deps.now() / 1000),
        });
        if (!asksForAcr(request)) return Check.NO_NEED_TO_PROMPT;
        const accountId = session.accountId;
        const decision = await withTenant(deps.db, deps.scope, async (trx) =>
          evaluateStepUp({
            policy: deps.policy,
            requested: request,
            session: { factors: await sessionFactors(trx, { sessionUid: session.uid, userId: accountId }) },
            enrolled: await enrolledFactors(trx, accountId),
            now: Math.floor(deps.now() / 1000),
          }),
        );
        if (decision.outcome === 'pass') return Check.NO_NEED_TO_PROMPT;
        // Unmet: with prompt=none the client hears it at once; otherwise an interaction shows the
        // user what the application needs first (src/interaction/step-up-pages.ts, /requirements).
        if (decision.outcome === 'unmet' && ctx.oidc.prompts.has('none')) throw new errors.UnmetAuthenticationRequirements(decision.description);
        (ctx as { stepUp?: StepUpDecision }).stepUp = decision;
        return Check.REQUEST_PROMPT;
      },
      (ctx: KoaContextWithOIDC) => {
        const decision = (ctx as { stepUp?: StepUpDecision }).stepUp;
        return decision?.outcome === 'prompt' ? { missing: decision.missing, target_acr: decision.targetAcr } : {};
      },
    ),
  );
  return policy;
}
