// Builds one tenant's oidc-provider instance: issuer `${PUBLIC_URL}/t/<slug>`, storage in the
// tenant schema, the tenant's own keys and clients. This file and oidc/interactions are the only
// places that know oidc-provider's configuration surface.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { withRequestTransaction, withTenant, type TenantScope } from '../db/tenant-scope.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../db/errors.ts';
import { loadSigningJwks } from '../keys/signing-keys.ts';
import { appendAudit, type AuditEvent } from '../audit/audit-log.ts';
import type { TenantRecord } from '../tenancy/registry.ts';
import type { StoredTenantSettings } from '../tenancy/tenant-file.ts';
import { messagePage } from '../../ui/components/layout.tsx';
import { createAdapterClass } from './adapter.ts';
import { TOKEN_TTLS } from './ttl.ts';
import { REFRESH_DEFAULTS } from '../config/defaults.ts';
import { createFindAccount } from './accounts.ts';
import { loadClients } from './clients.ts';
import { ACR_VALUES, createLoadExistingGrant } from './grant-policy.ts';
import { createStepUpPolicy } from './step-up-check.ts';
import { resolveAcrPolicy, type AcrPolicy } from '../stepup/index.ts';
import type { RecordIdCodec } from './record-ids.ts';
import { createRefreshGuard } from './refresh/guard.ts';
import { createRotations, type Rotations } from './refresh/rotation.ts';
import { endFamiliesOnLogout } from './refresh/logout.ts';
import { createJwtAccessTokens, JWT_ACCESS_TOKEN_TTL, recordGrantBoundJwt } from './jwt-access-tokens.ts';
import { restoreFirstPartyOfflineAccess } from './offline-access.ts';
import { ADMIN_TOKEN_TTL_SECONDS, adminResourceIndicator, createAdminTokenVerifier, type AdminTokenCheck } from './admin-resource.ts';
import { createProviderPages, setProviderSecurityHeaders } from './provider-pages.ts';
import { deviceAuthorizationMethod, savingSession } from './device-flow.ts';
import type { RootDb } from '../db/client.ts';
import { LANGUAGES } from '../../views/strings/index.ts';

export interface ProviderDeps {
  db: RootDb;
  ids: RecordIdCodec;
  publicUrl: string;
  kek: string;
  cookieKeys: string[];
  secureCookies: boolean;
  production: boolean;
  trustProxy: boolean;
  /** FACET_OPERATOR_TENANT: that tenant's console client may also redirect to the platform console. */
  operatorTenant?: string | undefined;
  now?: () => number;
  onReuseDetected?: (event: { tenant: string; clientId: string; reason: string }) => void;
  onTokensIssued?: (event: { tenant: string; kinds: string[] }) => void;
}

const TOKEN_KINDS = ['access_token', 'refresh_token', 'id_token'] as const;

/**
 * Token issuance and revocation are audit events (never the token itself), written in the
 * request's own transaction so they commit, or not, with what they describe.
 */
async function auditTokenEndpoint(ctx: KoaContextWithOIDC, deps: ProviderDeps, scope: TenantScope, slug: string, rotations: Rotations): Promise<void> {
  if (ctx.status !== 200) return;
  // The request's facts, read only for an event that is written.
  const facts = () => ({ clientId: ctx.oidc?.client?.clientId ?? null, ip: ctx.ip, userAgent: ctx.get('user-agent') || null });
  if (ctx.path === '/token/revocation') {
    await withTenant(deps.db, scope, (trx) => appendAudit(trx, { type: 'token.revoked', ...facts(), data: { token_type_hint: ctx.oidc?.params?.token_type_hint ?? null } }));
    return;
  }
  const body = ctx.body as Record<string, unknown> | undefined;
  const kinds = TOKEN_KINDS.filter((kind) => typeof body?.[kind] === 'string');
  if (kinds.length === 0) return;
  deps.onTokensIssued?.({ tenant: slug, kinds });
  // Machine-to-machine issuance is volume, not a user event: it is counted in the metrics and the
  // request log; the client itself (creation, changes) is what the audit trail records.
  if (ctx.oidc?.params?.grant_type === 'client_credentials') return;
  const accountId = (ctx.oidc?.entities as { Account?: { accountId: string } } | undefined)?.Account?.accountId ?? null;
  const event: AuditEvent = {
    type: 'token.issued',
    ...facts(),
    subject: accountId,
    data: { grant_type: (ctx.oidc?.params?.grant_type as string | undefined) ?? null, kinds, scope: (body?.scope as string | undefined) ?? null },
  };
  // A refresh rotation appends it in its one commit (src/oidc/refresh/rotation.ts).
  if (rotations.audit(event)) return;
  await withTenant(deps.db, scope, (trx) => appendAudit(trx, event));
}

export interface TenantProvider {
  provider: Provider;
  acrPolicy: AcrPolicy;
  /** Per-client minimum acr (tenant file: minimum_acr). */
  minimumAcr: Map<string, string>;
  firstPartyClients: Set<string>;
  settings: StoredTenantSettings;
  /** Checks a bearer token presented to the admin API (src/oidc/admin-resource.ts). */
  verifyAdminToken: (token: string) => Promise<AdminTokenCheck>;
}

export function issuerFor(publicUrl: string, slug: string): string {
  return `${publicUrl}/t/${slug}`;
}

export async function buildTenantProvider(tenant: TenantRecord, deps: ProviderDeps): Promise<TenantProvider> {
  const scope: TenantScope = tenant;
  const settings = tenant.settings;
  const resources = new Map((settings.resources ?? []).map((r) => [r.indicator, r]));
  const { keys, clients } = await withTenant(deps.db, scope, async (trx) => ({
    keys: await loadSigningJwks(trx, { kek: deps.kek, slug: tenant.slug }),
    clients: await loadClients(trx, {
      production: deps.production,
      issuer: issuerFor(deps.publicUrl, tenant.slug),
      kek: deps.kek,
      slug: tenant.slug,
      consoleRedirects: tenant.slug === deps.operatorTenant ? [`${deps.publicUrl}/console/callback`] : [],
    }),
  }));
  const issuer = issuerFor(deps.publicUrl, tenant.slug);
  const basePath = `/t/${tenant.slug}`;
  const now = deps.now ?? Date.now;
  const acrPolicy = resolveAcrPolicy(settings.acr ?? {});
  const familyDefaults = {
    graceSeconds: settings.refresh_tokens?.grace_seconds ?? REFRESH_DEFAULTS.graceSeconds,
    idleSeconds: settings.refresh_tokens?.idle_timeout_seconds ?? REFRESH_DEFAULTS.idleSeconds,
    absoluteSeconds: settings.refresh_tokens?.absolute_lifetime_seconds ?? REFRESH_DEFAULTS.absoluteSeconds,
  };
  const refresh = createRefreshGuard({
    now,
    grantHash: (grantId) => deps.ids.hash('Grant', grantId),
    limitsFor: (clientId) => ({ ...familyDefaults, graceSeconds: clients.refreshGrace.get(clientId) ?? familyDefaults.graceSeconds }),
    onReuseDetected: (event) => deps.onReuseDetected?.({ tenant: tenant.slug, ...event }),
  });
  const rotations = createRotations({ db: deps.db, scope, guard: refresh, grantHash: (grantId) => deps.ids.hash('Grant', grantId), now });
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies, path: basePath };
  // Introspection (RFC 7662): a client may introspect the tokens issued to itself; a resource
  // server (tenant file: introspection: true) also the access tokens addressed to one of its
  // resources. Nobody else learns anything (active: false).
  const mayIntrospect = (callerId: string, token: { clientId: string; audiences: string[]; kind: string }) => {
    if (token.clientId === callerId) return true;
    if (token.kind === 'RefreshToken' || !clients.introspectors.has(callerId)) return false;
    const served = clients.resources.get(callerId) ?? [];
    return token.audiences.some((audience) => served.includes(audience));
  };
  const pages = createProviderPages(tenant.name);
  const jwtAccessTokens = createJwtAccessTokens({ db: deps.db, scope, ids: deps.ids, issuer, keys: keys as any, now, mayIntrospect });
  const adminIndicator = adminResourceIndicator(issuer);
  const verifyAdminToken = createAdminTokenVerifier({ issuer, keys: keys as any, now, adminScopes: clients.adminScopes, isLive: jwtAccessTokens.isLive });

  const configuration: Configuration = {
    adapter: createAdapterClass({ db: deps.db, scope, ids: deps.ids, refresh, rotations, now }),
    clients: clients.metadata,
    findAccount: createFindAccount(deps.db, scope, rotations),
    jwks: { keys: keys as any },
    cookies: { keys: deps.cookieKeys, long: cookie, short: cookie },
    scopes: ['openid', 'offline_access', 'profile', 'email', ...new Set([...resources.values()].flatMap((r) => r.scopes))],
    claims: {
      // acr, amr and auth_time always travel with the ID token: relying parties that enforce their
      // own rules need the level reached every time, asked for or not (docs/step-up.md).
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      acr: null,
      amr: null,
      auth_time: null,
    },
    conformIdTokenClaims: true,
    // The languages the pages speak; an authorization request's ui_locales picks among them
    // (src/http/middleware/language.ts), the reader's own switcher choice winning.
    discovery: { claim_types_supported: ['normal'], ui_locales_supported: Object.keys(LANGUAGES) },
    acrValues: [...new Set([...acrPolicy.order, ...ACR_VALUES])],
    loadExistingGrant: createLoadExistingGrant(clients.firstParty),
    // Runs for every authorization request after oidc-provider's scope check: first-party clients
    // allowed refresh_token keep offline_access without prompt=consent (src/oidc/offline-access.ts).
    extraParams: { scope: async (ctx: KoaContextWithOIDC) => restoreFirstPartyOfflineAccess(ctx, clients.firstParty) },
    // Access tokens carry the authentication's acr and auth_time (introspection, JWT access
    // tokens), so a resource server can apply RFC 9470 step-up.
    extraTokenClaims: async (ctx: KoaContextWithOIDC) => {
      const entities = ctx?.oidc?.entities as Record<string, { acr?: string; authTime?: number } | undefined> | undefined;
      const source = entities?.AuthorizationCode ?? entities?.RefreshToken ?? entities?.DeviceCode;
      if (!source?.acr) return undefined;
      return { acr: source.acr, ...(source.authTime ? { auth_time: source.authTime } : {}) };
    },
    formats: {
      customizers: {
        // A JWT access token issued under a grant is recorded (keyed hash of its jti), so ending the
        // grant makes it inactive at introspection (src/oidc/jwt-access-tokens.ts).
        jwt: async (_ctx, token, jwt) => {
          const { grantId, clientId, accountId } = token as unknown as { grantId?: string; clientId: string; accountId?: string };
          const { jti, exp } = jwt.payload as { jti: string; exp: number };
          if (!grantId) return;
          await withTenant(deps.db, scope, (trx) => recordGrantBoundJwt(trx, deps.ids, { jti, grantId, clientId, accountId, exp }));
        },
      },
    },
    responseTypes: ['code', 'none'],
    interactions: {
      url: (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}`,
      policy: createStepUpPolicy({ db: deps.db, scope, policy: acrPolicy, minimumAcr: clients.minimumAcr, now }),
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, caller, token) => {
          const aud = (token as { aud?: string | string[] }).aud;
          return mayIntrospect(caller.clientId, { clientId: token.clientId!, audiences: aud === undefined ? [] : Array.isArray(aud) ? aud : [aud], kind: token.kind });
        },
      },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: only the client the token was issued to may revoke it.
        allowedPolicy: async (_ctx, caller, token) => token.clientId === caller.clientId,
      },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      dPoP: { enabled: true },
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      deviceFlow: {
        enabled: true,
        // Saves a fresh browser session before the page (src/oidc/device-flow.ts: no more 500s).
        userCodeInputSource: savingSession(pages.userCodeInputSource as any, cookie) as any,
        userCodeConfirmSource: pages.userCodeConfirmSource as any,
        successSource: pages.successSource,
      },
      registration: { enabled: settings.dynamic_registration === true },
      resourceIndicators: {
        enabled: true,
        // RFC 8707: a user's access token is addressed to a resource only when the RP asks for one
        // (resource= on the authorization, token or refresh request); without it the token is for
        // userinfo. client_credentials of a client with exactly one resource gets it by default.
        defaultResource: async (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          if (ctx.oidc.route !== 'token' || (ctx.oidc.params as { grant_type?: string }).grant_type !== 'client_credentials') return undefined!;
          const allowed = clients.resources.get(client.clientId) ?? [];
          return allowed.length === 1 ? allowed[0]! : undefined!;
        },
        getResourceServerInfo: async (_ctx, indicator, client) => {
          // The built-in admin resource: only for the admin scopes this client holds, as a JWT.
          if (indicator === adminIndicator) {
            const held = clients.adminScopes.get(client.clientId);
            if (!held?.length) throw new errors.InvalidTarget('this client holds no admin scopes (tenant file: admin_scopes)');
            return { scope: held.join(' '), audience: adminIndicator, accessTokenTTL: ADMIN_TOKEN_TTL_SECONDS, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
          }
          const resource = resources.get(indicator);
          const allowed = clients.resources.get(client.clientId) ?? [];
          if (!resource || !allowed.includes(indicator)) {
            throw new errors.InvalidTarget(`resource ${indicator} is not available to this client`);
          }
          return {
            scope: resource.scopes.join(' '),
            audience: resource.indicator,
            // Unset for opaque tokens: the AccessToken / ClientCredentials lifetimes of TOKEN_TTLS apply.
            accessTokenTTL: resource.access_token_ttl ?? (resource.access_token_format === 'jwt' ? JWT_ACCESS_TOKEN_TTL : undefined),
            accessTokenFormat: resource.access_token_format,
            ...(resource.access_token_format === 'jwt' ? { jwt: { sign: { alg: 'ES256' } } } : {}),
          };
        },
      },
    },
    ttl: {
      ...TOKEN_TTLS,
      // A resource's access_token_ttl (default for JWT access tokens: 600 s) wins.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TOKEN_TTLS.AccessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TOKEN_TTLS.ClientCredentials,
      // A rotated token never outlives its family's absolute lifetime (iiat is the family's start).
      RefreshToken: (_ctx, token) => {
        const started = (token as { iiat?: number }).iiat ?? Math.floor(now() / 1000);
        return Math.max(1, started + familyDefaults.absoluteSeconds - Math.floor(now() / 1000));
      },
    },
    rotateRefreshToken: true,
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256'],
    },
    // Outgoing requests (back-channel logout, jwks_uri, request_uri) keep oidc-provider's SSRF
    // guard, which refuses special-use addresses. Outside production, loopback targets are allowed
    // so an RP on the developer's machine (and the test suite's receiver) hears back-channel logout.
    fetch: (url, options) => {
      if (!deps.production && /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/.test(new URL(url instanceof Request ? url.url : url).hostname)) {
        delete (options as { dispatcher?: unknown }).dispatcher;
      }
      return globalThis.fetch(url, options as RequestInit);
    },
    renderError: async (ctx: KoaContextWithOIDC, out) => {
      ctx.type = 'html';
      const description = out.error_description ?? 'The request could not be completed.';
      ctx.body = messagePage({
        title: 'Sign-in problem',
        tenantName: tenant.name,
        heading: 'Something went wrong',
        message: String(description),
        detail: `Error code: ${out.error}`,
      }).value;
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = deps.trustProxy;
  // The token endpoint's storage work (find, spend, store, family decisions) in one transaction:
  // one durable commit per token request. Answers below 500 commit, so a revocation decided while
  // refusing a reused refresh token is kept. A refresh rotation is at most one read and one write
  // (src/oidc/refresh/rotation.ts), applied here before the answer leaves.
  const inTokenTransaction = (ctx: KoaContextWithOIDC, inner: () => Promise<unknown>) =>
    withRequestTransaction(
      deps.db,
      scope,
      () =>
        rotations.run(async () => {
          await inner();
          await auditTokenEndpoint(ctx, deps, scope, tenant.slug, rotations);
          const finished = await rotations.finish(ctx.status === 200);
          if (finished === 'refused') {
            ctx.status = 400;
            ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
          } else if (finished === 'stale') {
            // The grant or the account changed since it was read: nothing was written, the token
            // still works, and a retry reads afresh.
            ctx.status = 503;
            ctx.body = { error: 'temporarily_unavailable', error_description: 'the grant or the account changed during this request; retry' };
            ctx.set('Retry-After', '0');
            ctx.set('Cache-Control', 'no-store');
          }
        }),
      () => ctx.status < 500,
    );
  // RP-initiated logout ends the families of the clients signed out, offline_access or not.
  const endFamilies = endFamiliesOnLogout({ db: deps.db, scope, grantHash: (id) => deps.ids.hash('Grant', id), now });
  // Facet's additions to the provider, as one middleware that picks by path what a request needs
  // (every provider.use is one more async layer on every request, the token endpoint's included):
  // the security headers on every answer; the device authorization endpoint's method check; the
  // token and revocation endpoints' transaction (src/oidc/refresh/rotation.ts); JWT access tokens at
  // introspection and revocation (src/oidc/jwt-access-tokens.ts); the families ended by logout.
  const jwtAfter = jwtAccessTokens.middleware as (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;
  const facetRoutes = (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<unknown> => {
    const path = ctx.path;
    if (ctx.method === 'POST') {
      if (path === '/token') return inTokenTransaction(ctx, next);
      if (path === '/token/revocation') return inTokenTransaction(ctx, () => jwtAfter(ctx, next));
      if (path === '/token/introspection') return jwtAfter(ctx, next);
    }
    if (path === '/device/auth') return deviceAuthorizationMethod(ctx, next);
    if (path === '/session/end/confirm') return endFamilies(ctx, next);
    return next();
  };
  provider.use(async (ctx, next) => {
    // Set before the provider answers (oidc-provider's form_post page adds its script hash to them).
    setProviderSecurityHeaders(ctx.res);
    try {
      await facetRoutes(ctx as KoaContextWithOIDC, next);
    } catch (error) {
      // The database unreachable (src/db/errors.ts): the provider renders DatabaseUnavailableError as
      // 503 `temporarily_unavailable`; below adds Retry-After, and this answers the same when the
      // outage surfaces after the provider's own error handling (the token transaction's commit).
      if (!isDatabaseUnavailable(error)) throw error;
      const description = 'The service is briefly unavailable. Try again in a few seconds.';
      ctx.status = 503;
      if (ctx.accepts('json', 'html') === 'html') {
        ctx.type = 'html';
        ctx.body = messagePage({ title: 'Temporarily unavailable', tenantName: tenant.name, heading: 'Temporarily unavailable', message: description }).value;
      } else {
        ctx.type = 'application/json';
        ctx.body = { error: 'temporarily_unavailable', error_description: description };
      }
    }
    if (ctx.status === 503) {
      ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      ctx.set('Cache-Control', 'no-store');
    }
  });
  return { provider, firstPartyClients: clients.firstParty, settings, acrPolicy, minimumAcr: clients.minimumAcr, verifyAdminToken };
}
