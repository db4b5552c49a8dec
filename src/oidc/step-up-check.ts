// Enforces acr in the authorization flow: plain acr_values, essential acr claims, the client's
// default_acr_values and minimum acr, max_age and prompt=login. Added to oidc-provider's login
// prompt as one more check; the interaction pages then ask for exactly the missing factors.
import type { Kysely } from 'kysely';
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { withTenant, type TenantScope } from '../db/tenant-scope.ts';
import { evaluateStepUp, type AcrPolicy, type StepUpDecision, type StepUpRequest } from '../stepup/index.ts';
import { enrolledFactors, sessionFactors } from '../stepup/session-factors.ts';

export interface StepUpCheckDeps {
  db: Kysely<any>;
  scope: TenantScope;
  policy: AcrPolicy;
  minimumAcr: Map<string, string>;
  now: () => number;
}

/** What the request asks for, read from oidc-provider's context. */
export function requestedAcr(ctx: KoaContextWithOIDC, minimumAcr: Map<string, string>, interactionStartedAt: number): StepUpRequest {
  const { oidc } = ctx;
  const params = oidc.params as Record<string, unknown>;
  const client = oidc.client!;
  const fromParam = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  const acrValues = fromParam.length > 0 ? fromParam : ((client.metadata().default_acr_values as string[] | undefined) ?? []);
  const claim = (oidc.claims as { id_token?: { acr?: { essential?: boolean; value?: string; values?: string[] } } } | undefined)?.id_token?.acr;
  const essentialAcr = claim?.essential ? (claim.values ?? (claim.value ? [claim.value] : [])) : [];
  const maxAgeParam = params.max_age !== undefined ? Number(params.max_age) : (client.metadata().default_max_age as number | undefined);
  const minimum = minimumAcr.get(client.clientId);
  return {
    ...(acrValues.length > 0 ? { acrValues } : {}),
    ...(essentialAcr.length > 0 ? { essentialAcr } : {}),
    ...(maxAgeParam !== undefined && Number.isSafeInteger(maxAgeParam) && maxAgeParam >= 0 ? { maxAge: maxAgeParam } : {}),
    ...(oidc.prompts.has('login') ? { promptLogin: true, interactionStartedAt } : {}),
    ...(minimum ? { clientMinimumAcr: minimum } : {}),
  };
}

const asksForAcr = (request: StepUpRequest) => Boolean(request.acrValues?.length || request.essentialAcr?.length || request.clientMinimumAcr);

/** Evaluates the current session against the request (also used by the interaction pages). */
export async function evaluateSessionForRequest(
  ctx: KoaContextWithOIDC,
  { db, scope, policy, minimumAcr, now }: StepUpCheckDeps,
  session: { uid: string; accountId: string; loginTs?: number; amr?: string[] },
  interactionStartedAt = Math.floor(now() / 1000),
): Promise<StepUpDecision | undefined> {
  const request = requestedAcr(ctx, minimumAcr, interactionStartedAt);
  if (!asksForAcr(request)) return undefined;
  return withTenant(db, scope, async (trx) =>
    evaluateStepUp({
      policy,
      requested: request,
      session: {
        factors: await sessionFactors(trx, {
          sessionUid: session.uid,
          userId: session.accountId,
          ...(session.loginTs !== undefined ? { loginTs: session.loginTs } : {}),
          ...(session.amr ? { amr: session.amr } : {}),
        }),
      },
      enrolled: await enrolledFactors(trx, session.accountId),
      now: Math.floor(now() / 1000),
    }),
  );
}

export function createStepUpPolicy(deps: StepUpCheckDeps) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  login.checks.add(
    new Check(
      'acr_step_up',
      'additional authentication is required for the requested acr',
      async (ctx: KoaContextWithOIDC) => {
        const session = ctx.oidc.session;
        if (!session?.accountId) return Check.NO_NEED_TO_PROMPT;
        // Coming back from an interaction that already evaluated and finished this request.
        if (ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
        const decision = await evaluateSessionForRequest(ctx, deps, {
          uid: session.uid,
          accountId: session.accountId,
          ...(session.loginTs !== undefined ? { loginTs: session.loginTs } : {}),
          ...(session.amr ? { amr: session.amr } : {}),
        });
        if (!decision || decision.outcome === 'pass') return Check.NO_NEED_TO_PROMPT;
        if (decision.outcome === 'unmet') throw new errors.UnmetAuthenticationRequirements(decision.description);
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
