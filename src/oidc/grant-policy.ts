// How sign-in results become OIDC claims and grants: consent skipping for first-party clients and
// the acr/amr values. Kept apart from provider.ts so the sign-in and step-up code can own it.
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The acr values Facet can issue (see README: acr vocabulary). */
export const ACR_VALUES = ['urn:facet:acr:passkey'];

/**
 * First-party clients (tenant file: first_party: true) get their grant without a consent screen.
 * Returns undefined to let the consent prompt run.
 */
export function createLoadExistingGrant(firstParty: Set<string>) {
  return async (ctx: KoaContextWithOIDC) => {
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    if (!firstParty.has(ctx.oidc.client!.clientId)) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    grant.addOIDCClaims([...(ctx.oidc.requestParamClaims ?? [])]);
    for (const [indicator, resource] of Object.entries(ctx.oidc.resourceServers ?? {})) {
      grant.addResourceScope(indicator, (resource as { scope: string }).scope);
    }
    await grant.save();
    return grant;
  };
}
