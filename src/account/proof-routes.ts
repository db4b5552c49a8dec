// /account/verify: where a change that needs a fresh proof sends the user. It offers the proofs
// acceptedProofs() allows for this account; app codes and card taps are checked here through the
// one attempt pipeline and recorded with the account-page session; a passkey or a recovery code is
// proven by signing in again on the account page (which records it with the new session).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { isFactorName, type FactorName } from '../factors/names.ts';
import { createTotpFactor } from '../factors/totp/factor.ts';
import { createNfcFactor, tapOf } from '../factors/nfc/factor.ts';
import type { Factor } from '../factors/contract.ts';
import { freshProofPage } from '../../ui/pages/account.tsx';
import { fill, waitArguments, stringsFor } from '../../views/strings/index.ts';
import { htmlResponse, readBody, requestFacts, securePage } from '../interaction/http.ts';
import { respondRateLimited } from '../http/error-responder.ts';
import { type InteractionDeps } from '../interaction/flow.ts';
import { consumeStepUpLimits, factorSecretBox } from '../interaction/step-up.ts';
import { lockMessage, otpMessage, tapMessage } from '../interaction/step-up-pages.ts';
import { runAttempt } from '../interaction/attempt.ts';
import { accountOf, accountSession, type AccountContext } from './session.ts';
import type { Services } from '../services.ts';
import { accountPageReturn, proofState, recordAccountProof } from './fresh-proof.ts';

const removingOf = (value: unknown): FactorName | undefined => (isFactorName(value) ? value : undefined);

async function showProofPage(ctx: Context, deps: InteractionDeps, account: AccountContext, { next, removing, error, status = 200 }: { next: string; removing?: FactorName | undefined; error?: string | undefined; status?: number }) {
  const t = stringsFor(ctx.get('accept-language'));
  const state = await withTenant(deps.db, account.runtime.tenant, (trx) => proofState(trx, account, removing ? { removing } : {}));
  htmlResponse(
    ctx,
    freshProofPage({
      t,
      tenantName: account.runtime.tenant.name,
      logoUrl: account.runtime.settings.logo_url,
      nonce: securePage(ctx),
      csrf: account.csrf,
      base: account.base,
      accepted: state.accepted,
      next,
      removing,
      error: error ?? (state.fresh ? undefined : t.freshProof.required),
    }),
    status,
  );
}

export function registerProofRoutes(router: Router, deps: InteractionDeps): void {
  router.get('/account/verify', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    await showProofPage(ctx, deps, account, { next: accountPageReturn(account.base, ctx.query.next), removing: removingOf(ctx.query.removing) });
  });

  const proofWith = (name: 'otp' | 'nfc', factorFor: (services: Services) => Factor<Record<string, string>>, inputOf: (body: Record<string, unknown>) => Record<string, string>) =>
    router.post(`/account/verify/${name}`, accountSession(deps), async (ctx) => {
      const account = accountOf(ctx);
      const body = await readBody(ctx);
      const t = stringsFor(ctx.get('accept-language'));
      const next = accountPageReturn(account.base, body.next);
      const removing = removingOf(body.removing);
      const state = await withTenant(deps.db, account.runtime.tenant, (trx) => proofState(trx, account, removing ? { removing } : {}));
      if (!state.accepted.includes(name)) return showProofPage(ctx, deps, account, { next, removing, error: t.stepUp.notEnrolled, status: 400 });
      const outcome = await runAttempt(deps.db, account.runtime.tenant, {
        factor: factorFor(deps.services),
        userId: account.user.id,
        input: inputOf(body),
        facts: requestFacts(ctx),
        flow: 'fresh-proof',
        limit: () => consumeStepUpLimits(deps.services, ctx.ip, account.runtime, account.user.id),
      });
      if (!outcome.ok) {
        const error =
          outcome.refusal === 'not_enrolled'
            ? t.stepUp.notEnrolled
            : outcome.refusal === 'rate_limited'
              ? fill(t.stepUp.tooMany, waitArguments(outcome.retryAfterSeconds))
              : outcome.refusal === 'locked' || outcome.lock.locked
                ? lockMessage(t, outcome.lock)
                : name === 'otp'
                  ? otpMessage(t, outcome.reason, account.runtime.tenant.name)
                  : tapMessage(t, outcome.reason);
        if (outcome.refusal === 'rate_limited') return respondRateLimited(ctx, outcome.retryAfterSeconds, { detail: error, page: () => showProofPage(ctx, deps, account, { next, removing, error, status: 429 }) });
        return showProofPage(ctx, deps, account, { next, removing, error, status: 400 });
      }
      await withTenant(deps.db, account.runtime.tenant, (trx) => recordAccountProof(trx, account, { factor: name, amr: outcome.amr, at: outcome.at }));
      ctx.status = 303;
      ctx.redirect(next);
    });

  proofWith('otp', (services) => createTotpFactor(factorSecretBox(services)) as Factor<Record<string, string>>, (body) => ({ code: typeof body.code === 'string' ? body.code : '' }));
  proofWith('nfc', (services) => createNfcFactor(factorSecretBox(services)) as Factor<Record<string, string>>, (body) => ({ tap: tapOf(body.tap) }));
}
