// Test-only: finishes an interaction without a login page, so OIDC tests can run end to end.
// Mounted only when FACET_TEST_HELPERS=1, which loadConfig refuses in production.
import type Router from '@koa/router';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { TenantRuntime } from '../tenancy/runtime.ts';
import { badRequest } from '../errors/http-errors.ts';

export function testInteractionRoutes(router: Router, _deps: { db: Kysely<any>; logger: Logger }) {
  router.get('/interaction/:uid/__test-complete', async (ctx) => {
    const { provider } = ctx.state.tenant as TenantRuntime;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const sub = typeof ctx.query.sub === 'string' ? ctx.query.sub : undefined;
    if (details.prompt.name === 'login') {
      if (!sub) throw badRequest('sub is required to finish a login prompt');
      await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: sub, amr: ['hwk', 'user'], acr: 'urn:facet:acr:passkey' } }, { mergeWithLastSubmission: false });
    } else if (details.prompt.name === 'consent') {
      const accountId = details.session!.accountId;
      const clientId = details.params.client_id as string;
      const grant = details.grantId ? (await provider.Grant.find(details.grantId))! : new provider.Grant({ accountId, clientId });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } else {
      throw badRequest(`unsupported prompt ${details.prompt.name}`);
    }
    ctx.respond = false;
  });
}
