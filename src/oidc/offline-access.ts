// offline_access for first-party clients. OIDC Core §11: the OP ignores offline_access unless
// prompt=consent is sent "unless other conditions for processing the request permitting offline
// access to the requested resources are in place". oidc-provider drops it whenever prompt lacks
// consent; for a first-party client (tenant file: first_party: true, never shown a consent page)
// that is allowed the refresh_token grant, the tenant's declaration is that condition, so Facet
// puts offline_access back. Third-party clients keep the §11 rule (prompt=consent, and the user
// sees and approves offline access on the consent page).
//
// Called through oidc-provider's `extraParams` hook for `scope`, which runs for every
// authorization and pushed authorization request right after the scope check, before the grant
// is loaded and any interaction is saved.
import { decodeJwt } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';

const OFFLINE = 'offline_access';

/** The scope the RP sent, before oidc-provider's check: from the request object or PAR if any. */
function requestedScope(ctx: KoaContextWithOIDC): string | undefined {
  const entities = ctx.oidc.entities as { PushedAuthorizationRequest?: { request?: string } };
  const body = (ctx.oidc as { body?: Record<string, unknown> }).body;
  const source: Record<string, unknown> = ctx.method === 'POST' ? (body ?? {}) : (ctx.query as Record<string, unknown>);
  const requestObject = entities.PushedAuthorizationRequest?.request ?? source.request;
  if (typeof requestObject === 'string') {
    try {
      const scope = decodeJwt(requestObject).scope;
      return typeof scope === 'string' ? scope : undefined;
    } catch {
      return undefined; // encrypted request objects: the rule of §11 applies unchanged
    }
  }
  return typeof source.scope === 'string' ? source.scope : undefined;
}

export function restoreFirstPartyOfflineAccess(ctx: KoaContextWithOIDC, firstParty: Set<string>): void {
  const { oidc } = ctx;
  if (oidc.route !== 'authorization' && oidc.route !== 'pushed_authorization_request') return;
  const client = oidc.client;
  if (!client || !firstParty.has(client.clientId) || !client.grantTypeAllowed('refresh_token')) return;
  const params = oidc.params as { scope?: string; response_type?: string; prompt?: string };
  const scopes = params.scope ? params.scope.split(' ') : [];
  if (scopes.includes(OFFLINE)) return;
  if (!params.response_type?.split(' ').includes('code')) return;
  // A silent request (prompt=none) cannot add to what the user's grant already holds.
  if (params.prompt?.split(' ').includes('none')) return;
  if (client.scope && !client.scope.split(' ').includes(OFFLINE)) return;
  if (!requestedScope(ctx)?.split(' ').includes(OFFLINE)) return;
  params.scope = [...scopes, OFFLINE].join(' ');
}
