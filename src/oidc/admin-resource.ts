// The built-in admin resource (RFC 8707): every tenant's admin API is a resource server whose
// indicator is `<issuer>/admin/api`. Machines reach it with client_credentials and the admin
// scopes their client holds (tenant file: `admin_scopes`); the tokens are JWTs (RFC 9068) signed
// with the tenant's keys, so the admin API checks them itself:
//
//   signature   one of this tenant's keys            (a token of another tenant does not verify)
//   iss         this tenant's issuer                  (nor does its issuer match)
//   typ         at+jwt                                (an ID token is not an access token)
//   aud         this tenant's admin indicator         (a token for another resource is refused)
//   exp         in the future                         (600 s lifetime, no grace)
//   client      still holds each scope the token carries (a client removed or narrowed in the
//               tenant file loses its power at once, not when its tokens expire)
//   jti         not revoked (RFC 7009 revocation by the client itself)
//   cnf         absent: a sender-constrained token (DPoP, mTLS) would need its proof checked, which
//               the admin API does not do, so it is refused rather than accepted as a bearer token
//
// Each failure has its own reason, so the 401 says which check failed.
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK, type JWTPayload } from 'jose';

export const ADMIN_SCOPES = ['admin:read', 'admin:write', 'audit:read'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/** Lifetime of an admin access token, in seconds (short: a JWT cannot be recalled from memory). */
export const ADMIN_TOKEN_TTL_SECONDS = 600;

/** The admin API's resource indicator for a tenant issuer. */
export function adminResourceIndicator(issuer: string): string {
  return `${issuer}/admin/api`;
}

export type AdminTokenCheck =
  | { ok: true; clientId: string; scopes: AdminScope[]; expiresAt: number }
  | { ok: false; reason: 'malformed' | 'signature' | 'issuer' | 'audience' | 'type' | 'expired' | 'not_yet_valid' | 'client' | 'revoked' | 'sender_constrained' };

export const ADMIN_TOKEN_FAILURES: Record<Extract<AdminTokenCheck, { ok: false }>['reason'], string> = {
  malformed: 'The bearer token is not a JWT access token.',
  signature: 'The token is not signed by this tenant (a token of another tenant, or a forged one).',
  issuer: "The token was issued by another tenant or server (iss is not this tenant's issuer).",
  audience: "The token is not for the admin API (aud is not this tenant's admin resource indicator).",
  type: 'The token is not an access token (typ must be at+jwt).',
  expired: 'The token has expired; request a new one with client_credentials.',
  not_yet_valid: 'The token is not valid yet.',
  client: 'The client the token was issued to no longer holds admin scopes in this tenant.',
  revoked: 'The token was revoked.',
  sender_constrained: 'The token is sender-constrained (DPoP or mTLS); the admin API takes plain bearer tokens: request one without DPoP.',
};

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

export interface AdminTokenVerifierDeps {
  issuer: string;
  /** The tenant's signing keys (private members are dropped here). */
  keys: JWK[];
  now: () => number;
  /** The admin scopes each client holds now (tenant file: admin_scopes). */
  adminScopes: ReadonlyMap<string, readonly string[]>;
  /** Whether the token was revoked (src/oidc/jwt-access-tokens.ts). */
  isLive: (payload: JWTPayload) => Promise<boolean>;
}

export function createAdminTokenVerifier(deps: AdminTokenVerifierDeps) {
  const audience = adminResourceIndicator(deps.issuer);
  const jwks = createLocalJWKSet({
    keys: deps.keys.map((key) => {
      const copy: Record<string, unknown> = { ...key };
      for (const member of PRIVATE_MEMBERS) delete copy[member];
      return copy as JWK;
    }),
  });

  return async function verifyAdminToken(token: string): Promise<AdminTokenCheck> {
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return { ok: false, reason: 'malformed' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer: deps.issuer, audience, typ: 'at+jwt', algorithms: ['ES256', 'RS256'], currentDate: new Date(deps.now()) }));
    } catch (error) {
      return { ok: false, reason: failureOf(error) };
    }
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return { ok: false, reason: 'malformed' };
    if (payload.cnf !== undefined) return { ok: false, reason: 'sender_constrained' };
    const held = new Set(deps.adminScopes.get(clientId) ?? []);
    const scopes = String(payload.scope ?? '')
      .split(' ')
      .filter((scope): scope is AdminScope => (ADMIN_SCOPES as readonly string[]).includes(scope));
    if (held.size === 0 || scopes.some((scope) => !held.has(scope))) return { ok: false, reason: 'client' };
    if (!(await deps.isLive(payload))) return { ok: false, reason: 'revoked' };
    return { ok: true, clientId, scopes, expiresAt: payload.exp };
  };
}

function failureOf(error: unknown): Extract<AdminTokenCheck, { ok: false }>['reason'] {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'issuer';
    if (error.claim === 'aud') return 'audience';
    if (error.claim === 'typ') return 'type';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'not_yet_valid';
    return 'malformed';
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'signature';
  return 'malformed';
}
