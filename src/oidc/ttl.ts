// Lifetimes (seconds) of oidc-provider's artefacts. Refresh tokens are set per tenant from the
// family policy (provider.ts). The benchmark's bare provider uses the same table, so the two are
// compared like for like.
export const TOKEN_TTLS = {
  AccessToken: 3600,
  AuthorizationCode: 60,
  ClientCredentials: 600,
  DeviceCode: 600,
  Grant: 14 * 24 * 3600,
  IdToken: 3600,
  Interaction: 3600,
  Session: 14 * 24 * 3600,
  BackchannelAuthenticationRequest: 600,
} as const;
