// Test-only: finishes an interaction without a login page, so OIDC tests can run end to end.
// Mounted only when FACET_TEST_HELPERS=1, which loadConfig refuses in production. A login it
// finishes is a passkey proven now, and goes through the same decision as every other login
// (continueOrFinish): a request that needs more than a passkey is prompted or refused as usual.
import type Router from '@koa/router';
import { badRequest } from '../errors/http-errors.ts';
import { interactionFlow, type InteractionDeps } from '../interaction/flow.ts';
import { continueOrFinish, endUnmet, loadUnmet } from '../interaction/step-up.ts';
import { amrForFactor } from '../stepup/index.ts';

export function testInteractionRoutes(router: Router, deps: InteractionDeps) {
  router.get('/interaction/:uid/__test-complete', async (ctx) => {
    const flow = await interactionFlow(ctx, deps);
    const details = flow.details!;
    const sub = typeof ctx.query.sub === 'string' ? ctx.query.sub : undefined;
    if (details.prompt.name === 'login') {
      if (!sub) throw badRequest('sub is required to finish a login prompt');
      const next = await continueOrFinish(ctx, flow, deps, { userId: sub, factor: 'passkey', amr: amrForFactor('passkey', { deviceBound: true }), at: new Date() });
      // An unmet requirement is explained on a page a user reads first; the helper clicks through.
      const description = next.endsWith('/requirements') ? await loadUnmet(deps, flow) : undefined;
      ctx.status = 303;
      ctx.redirect(description ? await endUnmet(ctx, flow, description) : next);
      return;
    }
    if (details.prompt.name === 'consent') {
      ctx.status = 303;
      ctx.redirect(
        await flow.runtime.oidc.grantConsent(ctx.req, ctx.res, {
          accountId: details.session!.accountId,
          clientId: details.clientId,
          grantId: details.grantId,
          missing: details.prompt.details,
        }),
      );
      return;
    }
    throw badRequest(`unsupported prompt ${details.prompt.name}`);
  });
}
