// The platform operator console (issue 12), for users holding the `operator` role in the operator
// tenant (FACET_OPERATOR_TENANT). It signs in the same way as a tenant's console — the operator
// tenant's built-in first-party client `facet-console` (code + PKCE, acr_values=…passkey), run as
// a backend-for-frontend — with its callback at the origin's /console/callback:
//
//   /console                   the Preact page's shell (strict CSP, nonce), once signed in
//   /console/sign-in           the authorization request at /t/<operator tenant>/auth
//   /console/step-up           the same with acr_values=<the operator tenant's admin acr> and
//                              max_age=300 (RFC 9470): every operator write needs a step-up made
//                              within the last 5 minutes, as the tenant console's sensitive actions
//   /console/callback          code for tokens (server to server), ID token verified, session opened
//   /console/sign-out          ends the session (POST, with the CSRF token)
//   /operator/api/…            the operator API (src/console/operator-api.ts), with the session
//
// The session is a console session in the operator tenant's schema (src/console/sessions.ts); the
// browser holds one HttpOnly, SameSite=Strict cookie, `facet_operator`. Writes need the session's
// CSRF token in X-Facet-CSRF. Without FACET_OPERATOR_TENANT none of this is mounted (/console is 404).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Config } from '../config/index.ts';
import type { RootDb } from '../db/client.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { HttpError } from '../errors/http-errors.ts';
import { respondProblem } from '../http/error-responder.ts';
import { securePage } from '../http/middleware/security-headers.ts';
import { readBody } from '../http/middleware/body.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findLiveUserById } from '../accounts/users.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { CONSOLE_CLIENT_ID } from '../oidc/clients.ts';
import { isOperator, OPERATOR_ROLE } from '../admin/roles.ts';
import { html, type SafeHtml } from '../../ui/html.ts';
import { appShellPage, layout } from '../../ui/components/layout.tsx';
import { consoleLanguage } from './routes.ts';
import { CONSOLE_READ_ACR, acrSatisfies, adminAcrOf, stepUpState } from './principal.ts';
import { CONSOLE_SESSION_TTL_SECONDS, STEP_UP_MAX_AGE_SECONDS, closeConsoleSession, findConsoleSession, openConsoleSession, stepUpConsoleSession, type ConsoleSession } from './sessions.ts';
import { OPERATOR_API_BASE, registerOperatorApi } from './operator-api.ts';

export const OPERATOR_COOKIE = 'facet_operator';
const LOGIN_COOKIE = 'facet_operator_login';
const LOGIN_TTL_SECONDS = 600;

export interface OperatorDeps {
  config: Config;
  db: RootDb;
  /** Runs `work` with the operator tenant's runtime (undefined when it is unknown or disabled). */
  withOperatorTenant: <R>(work: (runtime: TenantRuntime) => Promise<R>) => Promise<R | undefined>;
  poolState: (slug: string) => { warm: boolean; inFlight: number };
  /** The admin.ip rate limit, run before every operator route. */
  limited: Middleware;
}

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  at: number;
  stepUp: boolean;
}

export interface OperatorPrincipal {
  userId: string;
  username: string;
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};


const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function jwksFor(issuer: string) {
  let set = jwksCache.get(issuer);
  if (!set) {
    // As the tenant console: our own keys, fetched again at once for an unknown kid (a rotation).
    set = createRemoteJWKSet(new URL(`${issuer}/jwks`), { cooldownDuration: 0 });
    jwksCache.set(issuer, set);
  }
  return set;
}

/** The router for /console and /operator/api, or undefined without an operator tenant. */
export function operatorRoutes(deps: OperatorDeps): Router | undefined {
  const { config, db } = deps;
  const operatorSlug = config.operatorTenant;
  if (!operatorSlug) return undefined;
  const issuer = `${config.publicUrl}/t/${operatorSlug}`;
  const callback = `${config.publicUrl}/console/callback`;
  const cookie = (sameSite: 'strict' | 'lax', seconds: number, path = '/') => ({ httpOnly: true, sameSite, secure: config.secureCookies, path, signed: true, maxAge: seconds * 1000, overwrite: true }) as const;

  /** The operator tenant's runtime, or a 503 that says why. */
  const operatorTenant = async <R>(work: (runtime: TenantRuntime) => Promise<R>): Promise<R> => {
    const result = await deps.withOperatorTenant(async (runtime) => ({ value: await work(runtime) }));
    if (!result) throw new HttpError(503, 'operator_tenant_unavailable', 'Operator console unavailable', `The operator tenant ${operatorSlug} (FACET_OPERATOR_TENANT) does not exist or is disabled.`);
    return result.value;
  };

  const current = async (ctx: Context): Promise<{ session: ConsoleSession; principal: OperatorPrincipal; operator: boolean; stepUp: { adminAcr: string; fresh: boolean } } | undefined> => {
    const token = ctx.cookies.get(OPERATOR_COOKIE, { signed: true });
    if (!token) return undefined;
    return operatorTenant((runtime) =>
      withTenant(db, runtime.tenant, async (trx) => {
        const session = await findConsoleSession(trx, token);
        if (!session) return undefined;
        const user = await findLiveUserById(trx, session.userId);
        if (!user) return undefined;
        const state = stepUpState(session, runtime.acrPolicy, runtime.tenant.settings);
        return { session, principal: { userId: user.id, username: user.username }, operator: await isOperator(trx, user.id), stepUp: { adminAcr: state.adminAcr, fresh: state.freshUntil !== null } };
      }),
    );
  };

  const page = (ctx: Context, status: number, heading: string, message: string, links: Array<{ href: string; label: string }> = []) => {
    const nonce = securePage(ctx);
    ctx.status = status;
    ctx.type = 'html';
    const body: SafeHtml = html`<section class="card" role="alert"><h1>${heading}</h1><p>${message}</p>${links.map((l) => html`<p><a href="${l.href}">${l.label}</a></p>`)}</section>`;
    ctx.body = layout({ title: heading, tenantName: 'Facet operators', nonce, scripts: [], lang: consoleLanguage(ctx).lang }, body).toString();
  };
  const againFor = (ctx: Context) => [{ href: '/console/sign-in', label: consoleLanguage(ctx).t.operator.signInAgain }];

  /** Every /operator/api route but the document: an operator's session, and the CSRF token on writes. */
  const authenticate = async (ctx: Context, next: Next) => {
    const found = await current(ctx);
    if (!found) {
      respondProblem(ctx, 401, 'operator_session_required', 'Sign in to the operator console.', { redirect: '/console/sign-in' });
      return;
    }
    if (!found.operator) {
      respondProblem(ctx, 403, 'operator_forbidden', `${found.principal.username} does not hold the operator role in ${operatorSlug}.`);
      return;
    }
    if (!['GET', 'HEAD'].includes(ctx.method) && !sameText(ctx.get('x-facet-csrf'), found.session.csrf)) {
      respondProblem(ctx, 403, 'csrf_failed', 'This request did not come from the operator console (missing or wrong X-Facet-CSRF).');
      return;
    }
    if (!['GET', 'HEAD'].includes(ctx.method) && !found.stepUp.fresh) {
      respondProblem(ctx, 403, 'step_up_required', `Operator actions need a step-up to ${found.stepUp.adminAcr} made within the last ${STEP_UP_MAX_AGE_SECONDS / 60} minutes.`, {
        acr: found.stepUp.adminAcr,
        redirect: '/console/step-up',
      });
      return;
    }
    ctx.state.operator = found.principal;
    await next();
  };

  const router = new Router();
  router.use(['/console', OPERATOR_API_BASE], deps.limited);

  const startAuthorization = async (ctx: Context, stepUp: boolean) => {
    const runtime = await operatorTenant(async (r) => r);
    const pending: Pending = { state: randomBytes(16).toString('base64url'), nonce: randomBytes(16).toString('base64url'), verifier: randomBytes(32).toString('base64url'), at: Math.floor(Date.now() / 1000), stepUp };
    // Lax: the way back is a redirect chain through the operator tenant's sign-in pages.
    ctx.cookies.set(LOGIN_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), cookie('lax', LOGIN_TTL_SECONDS, '/console'));
    const params = new URLSearchParams({
      client_id: CONSOLE_CLIENT_ID,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: callback,
      code_challenge: createHash('sha256').update(pending.verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      acr_values: stepUp ? adminAcrOf(runtime.tenant.settings) : CONSOLE_READ_ACR,
    });
    if (stepUp) params.set('max_age', String(STEP_UP_MAX_AGE_SECONDS));
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(`${runtime.basePath}/auth?${params}`);
  };
  router.get('/console/sign-in', (ctx) => startAuthorization(ctx, false));
  router.get('/console/step-up', async (ctx) => startAuthorization(ctx, (await current(ctx)) !== undefined));

  router.get('/console/callback', async (ctx) => {
    const raw = ctx.cookies.get(LOGIN_COOKIE, { signed: true });
    ctx.cookies.set(LOGIN_COOKIE, null, { path: '/console' });
    let pending: Pending | undefined;
    try {
      pending = raw ? (JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Pending) : undefined;
    } catch {
      pending = undefined;
    }
    const { t, format } = consoleLanguage(ctx);
    const again = againFor(ctx);
    if (!pending || typeof ctx.query.state !== 'string' || !sameText(ctx.query.state, pending.state) || pending.at + LOGIN_TTL_SECONDS < Date.now() / 1000) {
      return page(ctx, 400, t.signIn.expiredTitle, t.signIn.expired, again);
    }
    if (ctx.query.error === 'unmet_authentication_requirements') {
      return page(ctx, 403, t.signIn.strongerTitle, t.operator.strongerNeeded, [
        { href: `/t/${operatorSlug}/account`, label: t.signIn.openAccount },
        { href: '/console', label: t.operator.backToConsole },
      ]);
    }
    if (typeof ctx.query.error === 'string') return page(ctx, 403, t.signIn.failedTitle, format(t.signIn.failedWith, { error: ctx.query.error }), again);
    if (typeof ctx.query.code !== 'string') return page(ctx, 400, t.signIn.failedTitle, t.signIn.noCode, again);
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: ctx.query.code, redirect_uri: callback, client_id: CONSOLE_CLIENT_ID, code_verifier: pending.verifier }),
    });
    const tokens = (await response.json().catch(() => ({}))) as { id_token?: string; error?: string };
    if (!response.ok || !tokens.id_token) return page(ctx, 400, t.signIn.failedTitle, format(t.signIn.tokenRefused, { reason: String(tokens.error ?? response.status) }), again);
    let claims: { sub?: string; acr?: unknown; amr?: unknown; auth_time?: unknown; nonce?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(tokens.id_token, jwksFor(issuer), { issuer, audience: CONSOLE_CLIENT_ID, clockTolerance: 5 }));
    } catch (cause) {
      return page(ctx, 400, t.signIn.failedTitle, format(t.operator.idTokenInvalid, { reason: (cause as Error).message }), again);
    }
    if (claims.nonce !== pending.nonce) return page(ctx, 400, t.signIn.failedTitle, t.operator.nonceMismatch, again);
    const sub = String(claims.sub);
    const acr = typeof claims.acr === 'string' ? claims.acr : '';
    const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : Math.floor(Date.now() / 1000);
    const existing = pending.stepUp ? await current(ctx) : undefined;
    const outcome = await operatorTenant(async (runtime) => {
      if (!acrSatisfies(runtime.acrPolicy, acr, CONSOLE_READ_ACR)) return { refused: format(t.operator.passkeyNeeded, { acr: CONSOLE_READ_ACR, reached: acr || t.signIn.noAcr }) };
      return withTenant(db, runtime.tenant, async (trx) => {
        if (!(await isOperator(trx, sub))) return { refused: format(t.operator.notOperator, { tenant: operatorSlug, command: `facet admin grant --tenant ${operatorSlug} <user> --role operator` }) };
        const stepUp = pending!.stepUp && existing?.principal.userId === sub;
        let token: string | undefined;
        if (stepUp) await stepUpConsoleSession(trx, existing!.session.idHash, { acr, amr, authTime, idToken: tokens.id_token ?? null });
        else ({ token } = await openConsoleSession(trx, { userId: sub, acr, amr, authTime, idToken: tokens.id_token ?? null }));
        await appendAudit(trx, { type: 'console.signed_in', actor: sub, subject: sub, clientId: CONSOLE_CLIENT_ID, ip: ctx.ip, userAgent: ctx.get('user-agent') || null, data: { acr, roles: [OPERATOR_ROLE], step_up: stepUp } });
        return { token, fresh: stepUpState({ acr, authTime }, runtime.acrPolicy, runtime.tenant.settings).freshUntil !== null, adminAcr: adminAcrOf(runtime.tenant.settings) };
      });
    });
    if ('refused' in outcome) return page(ctx, 403, t.operator.noAccessTitle, outcome.refused!, [{ href: `/t/${operatorSlug}/account`, label: t.signIn.yourAccount }]);
    if (outcome.token) ctx.cookies.set(OPERATOR_COOKIE, outcome.token, cookie('strict', CONSOLE_SESSION_TTL_SECONDS));
    if (pending.stepUp && !outcome.fresh) {
      return page(ctx, 403, t.signIn.stepUpNotReachedTitle, format(t.operator.stepUpNotReached, { acr, adminAcr: outcome.adminAcr, minutes: STEP_UP_MAX_AGE_SECONDS / 60 }), [{ href: '/console', label: t.operator.backToConsole }]);
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect('/console');
  });

  router.post('/console/sign-out', async (ctx) => {
    const token = ctx.cookies.get(OPERATOR_COOKIE, { signed: true });
    const found = await current(ctx);
    const body = (await readBody(ctx).catch(() => ({}))) as Record<string, unknown>;
    if (found && token) {
      if (!sameText(String(body.csrf ?? ''), found.session.csrf)) throw new HttpError(403, 'csrf_failed', 'Forbidden', 'This sign-out did not come from the operator console.');
      await operatorTenant((runtime) =>
        withTenant(db, runtime.tenant, async (trx) => {
          await closeConsoleSession(trx, token);
          await appendAudit(trx, { type: 'console.signed_out', actor: found.principal.userId, subject: found.principal.userId, ip: ctx.ip, data: {} });
        }),
      );
    }
    ctx.cookies.set(OPERATOR_COOKIE, null, { path: '/' });
    page(ctx, 200, consoleLanguage(ctx).t.operator.signedOutTitle, consoleLanguage(ctx).t.operator.signedOut, againFor(ctx));
  });

  router.get('/console', async (ctx) => {
    const found = await current(ctx);
    if (!found) {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 303;
      ctx.redirect('/console/sign-in');
      return;
    }
    if (!found.operator) {
      const { t, format } = consoleLanguage(ctx);
      return page(ctx, 403, t.operator.noAccessTitle, format(t.operator.notOperatorAnyMore, { user: found.principal.username, tenant: operatorSlug }));
    }
    const nonce = securePage(ctx);
    const { lang, t, format } = consoleLanguage(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    ctx.body = appShellPage({
      lang,
      title: t.operator.title,
      stylesheets: ['/assets/facet.css', '/assets/console.css'],
      mount: { id: 'operator', 'data-api': OPERATOR_API_BASE, 'data-csrf': found.session.csrf, 'data-user': found.principal.username, 'data-operator-tenant': operatorSlug },
      noscript: format(t.operator.noscript, { openapi: `${OPERATOR_API_BASE}/openapi.json` }),
      script: '/assets/build/operator.js',
      nonce,
    });
  });

  registerOperatorApi(router, { config, db, poolState: deps.poolState, authenticate });
  return router;
}
