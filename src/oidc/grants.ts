// The one place a Grant (oidc-provider's record of what an account gave a client) is found or made
// and extended: the consent page (facade.ts grantConsent: what the prompt said was missing) and
// first-party clients without a consent page (grant-policy.ts: what the request asks for).
import type Provider from 'oidc-provider';

export type Grant = InstanceType<Provider['Grant']>;

/** What a grant gains: OIDC scopes (space-separated), claims, and scopes per resource indicator. */
export interface GrantAdditions {
  scope?: string | undefined;
  claims?: readonly string[] | undefined;
  resources?: Readonly<Record<string, string>> | undefined;
}

/** The stored grant `grantId` names, or a new one of this account for this client. */
export async function findOrNewGrant(provider: Provider, { grantId, accountId, clientId }: { grantId?: string | undefined; accountId: string; clientId: string }): Promise<Grant> {
  return (grantId ? await provider.Grant.find(grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
}

/** Adds to `grant` (never removes); the caller saves it. */
export function extendGrant(grant: Grant, { scope, claims, resources }: GrantAdditions): Grant {
  if (scope) grant.addOIDCScope(scope);
  if (claims && claims.length > 0) grant.addOIDCClaims([...claims]);
  for (const [indicator, scopes] of Object.entries(resources ?? {})) grant.addResourceScope(indicator, scopes);
  return grant;
}
