// Who we are to the authenticator: the RP ID and the origin a ceremony must come from. All tenants
// on the shared host share one RP ID (so the browser offers one tenant's passkeys at another,
// which each tenant refuses by looking only in its own schema); a tenant with its own domain
// gets its own RP ID.
export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export function relyingPartyFor(publicUrl: string, tenant: { name: string; settings: { domain?: string | undefined } }): RelyingParty {
  const domain = tenant.settings.domain;
  if (domain) return { id: domain, name: tenant.name, origin: `https://${domain}` };
  const url = new URL(publicUrl);
  return { id: url.hostname, name: tenant.name, origin: url.origin };
}
