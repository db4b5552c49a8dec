// How sign-in results become OIDC claims and grants: consent skipping for first-party clients and
// the acr/amr values. Kept apart from provider.ts so the sign-in and step-up code can own it.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { RECOVERY_ACR } from '../stepup/index.ts';
import { extendGrant, findOrNewGrant } from './grants.ts';

/** A passkey sign-in (docs/passkeys.md: acr vocabulary; step-up adds stronger values). */
export const PASSKEY_ACR = 'urn:facet:acr:passkey';
/** The acr values Facet can issue. */
export const ACR_VALUES = [PASSKEY_ACR, RECOVERY_ACR];

/**
 * First-party clients (tenant file: first_party: true) get their grant without a consent screen.
 * Returns undefined to let the consent prompt run.
 */
export function createLoadExistingGrant(firstParty: Set<string>) {
  return async (ctx: KoaContextWithOIDC) => {
    const clientId = ctx.oidc.client!.clientId;
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
    let grant;
    if (grantId) {
      grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant && !firstParty.has(clientId)) return grant;
      // The grant was revoked (e.g. refresh-token reuse): forget it, so the user simply signs in
      // and consents again instead of being stuck on a dead reference (oidc-provider #1086).
      if (!grant) delete ctx.oidc.session!.authorizations?.[clientId];
    }
    if (!firstParty.has(clientId)) return undefined;
    // A first-party client gets what it asks for without a consent page, now and when it later
    // asks for more (a new scope on an existing grant extends it).
    grant ??= await findOrNewGrant(ctx.oidc.provider, { clientId, accountId: ctx.oidc.session!.accountId! });
    extendGrant(grant, {
      scope: ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid',
      claims: [...(ctx.oidc.requestParamClaims ?? [])],
      resources: Object.fromEntries(Object.entries(ctx.oidc.resourceServers ?? {}).map(([indicator, resource]) => [indicator, (resource as { scope: string }).scope])),
    });
    await grant.save();
    return grant;
  };
}
