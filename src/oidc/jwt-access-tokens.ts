// JWT access tokens (resources with access_token_format: jwt) at the introspection (RFC 7662) and
// revocation (RFC 7009) endpoints. oidc-provider answers both with `unsupported_token_type` for
// structured tokens, after it has authenticated the caller; this provider middleware then answers
// instead:
// - a JWT is active when its signature, issuer, type and expiry verify, its jti was not revoked,
//   and, when it was issued under a grant (code, refresh, device flow), that grant still exists.
//   Issuance under a grant records jti → grant (kind `JwtAccessToken`, keyed hash of the jti),
//   so everything that ends a grant (RP logout, "sign out everywhere", refresh-token family
//   revocation, account deletion) makes its JWTs inactive at introspection;
// - revoking a JWT (by the client it was issued to) records its jti (kind `RevokedAccessToken`)
//   until it expires.
// An API that verifies JWTs itself sees none of this; that is why their default lifetime is short
// (resources: access_token_ttl, default 600 s) — README "For relying parties".
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { withTenant, type TenantDb, type TenantScope } from '../db/tenant-scope.ts';
import type { RecordIdCodec } from './record-ids.ts';
import type { RootDb } from '../db/client.ts';

export const JWT_ACCESS_TOKEN_KIND = 'JwtAccessToken';
export const REVOKED_ACCESS_TOKEN_KIND = 'RevokedAccessToken';
/** Default lifetime of JWT access tokens (seconds) when a resource does not set access_token_ttl. */
export const JWT_ACCESS_TOKEN_TTL = 600;

export interface JwtAccessTokenDeps {
  db: RootDb;
  scope: TenantScope;
  ids: RecordIdCodec;
  issuer: string;
  /** The tenant's signing keys (private members are dropped here). */
  keys: JWK[];
  now: () => number;
  /** Whether `callerId` may learn about a token of `tokenClientId` addressed to `audiences`. */
  mayIntrospect: (callerId: string, token: { clientId: string; audiences: string[]; kind: 'AccessToken' }) => boolean;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/** Records a JWT access token issued under a grant, so the grant's end ends the token too. */
export async function recordGrantBoundJwt(
  trx: TenantDb,
  ids: RecordIdCodec,
  token: { jti: string; grantId: string; clientId: string; accountId?: string | undefined; exp: number },
): Promise<void> {
  await trx
    .insertInto('oidc_records')
    .values({
      kind: JWT_ACCESS_TOKEN_KIND,
      id_hash: ids.hash(JWT_ACCESS_TOKEN_KIND, token.jti),
      payload: JSON.stringify({ clientId: token.clientId, accountId: token.accountId ?? null }),
      grant_id: token.grantId,
      expires_at: new Date(token.exp * 1000),
    })
    .onConflict((oc) => oc.columns(['kind', 'id_hash']).doNothing())
    .execute();
}

const live = (now: number) => (eb: any) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date(now))]);

export function createJwtAccessTokens(deps: JwtAccessTokenDeps) {
  const { db, scope, ids, issuer, now } = deps;
  const publicKeys = deps.keys.map((key) => {
    const copy: Record<string, unknown> = { ...key };
    for (const member of PRIVATE_MEMBERS) delete copy[member];
    return copy as JWK;
  });
  const jwks = createLocalJWKSet({ keys: publicKeys });

  /** The verified payload of a JWT access token of this tenant, or undefined. */
  async function verify(token: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer, typ: 'at+jwt', algorithms: ['ES256', 'RS256'], currentDate: new Date(now()) });
      if (typeof payload.jti !== 'string' || typeof payload.client_id !== 'string') return undefined;
      return payload;
    } catch {
      return undefined;
    }
  }

  /** Not revoked, and its grant (if it had one) still there. */
  async function isLive(payload: JWTPayload): Promise<boolean> {
    const jti = payload.jti!;
    return withTenant(db, scope, async (trx) => {
      const rows = await trx
        .selectFrom('oidc_records')
        .select(['kind', 'grant_id'])
        .where((eb) =>
          eb.or([
            eb.and([eb('kind', '=', REVOKED_ACCESS_TOKEN_KIND), eb('id_hash', '=', ids.hash(REVOKED_ACCESS_TOKEN_KIND, jti))]),
            eb.and([eb('kind', '=', JWT_ACCESS_TOKEN_KIND), eb('id_hash', '=', ids.hash(JWT_ACCESS_TOKEN_KIND, jti))]),
          ]),
        )
        .where(live(now()))
        .execute();
      if (rows.some((row) => row.kind === REVOKED_ACCESS_TOKEN_KIND)) return false;
      const bound = rows.find((row) => row.kind === JWT_ACCESS_TOKEN_KIND);
      // Issued without a grant: client_credentials (its subject is the client itself).
      if (!bound) return payload.sub === payload.client_id;
      const grant = await trx
        .selectFrom('oidc_records')
        .select('id_hash')
        .where('kind', '=', 'Grant')
        .where('id_hash', '=', ids.hash('Grant', bound.grant_id as string))
        .where(live(now()))
        .executeTakeFirst();
      return grant !== undefined;
    });
  }

  async function introspect(callerId: string, token: string): Promise<Record<string, unknown>> {
    const payload = await verify(token);
    if (!payload) return { active: false };
    const audiences = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!deps.mayIntrospect(callerId, { clientId: payload.client_id as string, audiences, kind: 'AccessToken' })) return { active: false };
    if (!(await isLive(payload))) return { active: false };
    const cnf = payload.cnf as { jkt?: string } | undefined;
    return { ...payload, active: true, token_type: cnf?.jkt ? 'DPoP' : 'Bearer' };
  }

  async function revoke(callerId: string, token: string): Promise<void> {
    const payload = await verify(token);
    // RFC 7009 §2.1: only the client the token was issued to may revoke it; anything else is a no-op.
    if (!payload || payload.client_id !== callerId) return;
    await withTenant(db, scope, (trx) =>
      trx
        .insertInto('oidc_records')
        .values({
          kind: REVOKED_ACCESS_TOKEN_KIND,
          id_hash: ids.hash(REVOKED_ACCESS_TOKEN_KIND, payload.jti!),
          payload: JSON.stringify({ clientId: payload.client_id }),
          grant_id: null,
          expires_at: new Date((payload.exp ?? Math.floor(now() / 1000) + 3600) * 1000),
        })
        .onConflict((oc) => oc.columns(['kind', 'id_hash']).doNothing())
        .execute(),
    );
  }

  /**
   * Provider middleware: replaces oidc-provider's `unsupported_token_type` answer for a JWT at
   * the introspection and revocation endpoints (the caller is authenticated by then).
   */
  async function middleware(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const route = ctx.oidc?.route;
    if (ctx.method !== 'POST' || (route !== 'introspection' && route !== 'revocation')) return;
    if (ctx.status !== 400 || (ctx.body as { error?: string } | undefined)?.error !== 'unsupported_token_type') return;
    const callerId = ctx.oidc.client?.clientId;
    const token = (ctx.oidc.params as { token?: unknown } | undefined)?.token;
    if (!callerId || typeof token !== 'string') return;
    if (route === 'introspection') {
      const body = await introspect(callerId, token);
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = body;
      return;
    }
    await revoke(callerId, token);
    ctx.status = 200;
    ctx.body = '';
  }

  return { verify, isLive, introspect, revoke, middleware };
}
