// The hosted console for tenant admins (issue 12), run as a backend-for-frontend:
//
//   /t/<slug>/console[/…]        the Preact app's shell (strict CSP, nonce), once signed in
//   /t/<slug>/console/sign-in    starts an authorization request of the built-in first-party
//                                client `facet-console` (code + PKCE, acr_values=…passkey)
//   /t/<slug>/console/step-up    the same with acr_values=<admin acr> and max_age=300 (RFC 9470)
//   /t/<slug>/console/callback   exchanges the code at the tenant's token endpoint, verifies the
//                                ID token, opens (or steps up) the server-side session
//   /t/<slug>/console/sign-out   ends the console session
//   /t/<slug>/console/api/…      the admin API, called with the session (consoleBridge below)
//
// Tokens stay on the server; the browser holds one HttpOnly, SameSite=Strict cookie scoped to
// /t/<slug>/console. Writes through the API also need the session's CSRF token in a header.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { HttpError } from '../errors/http-errors.ts';
import { respondProblem } from '../http/error-responder.ts';
import { securePage } from '../http/middleware/security-headers.ts';
import { readBody } from '../http/middleware/body.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findLiveUserById } from '../accounts/users.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { CONSOLE_CLIENT_ID } from '../oidc/clients.ts';
import { rolesOf, syncFileAdmins } from '../admin/roles.ts';
import { html, type SafeHtml } from '../../ui/html.ts';
import { appShellPage, layout } from '../../ui/components/layout.tsx';
import { negotiateLanguage } from '../../views/strings/index.ts';
import { fill } from '../../views/strings/format.ts';
import { consoleStringsOf } from '../../views/strings/console/index.ts';
import { CONSOLE_READ_ACR, acrSatisfies, adminAcrOf, stepUpState, type ConsolePrincipal } from './principal.ts';
import {
  CONSOLE_COOKIE,
  CONSOLE_LOGIN_COOKIE,
  CONSOLE_SESSION_TTL_SECONDS,
  STEP_UP_MAX_AGE_SECONDS,
  closeConsoleSession,
  findConsoleSession,
  openConsoleSession,
  stepUpConsoleSession,
  type ConsoleSession,
} from './sessions.ts';

type Db = Parameters<typeof withTenant>[0];
export interface ConsoleDeps {
  config: Config;
  db: Db;
}

const LOGIN_TTL_SECONDS = 600;
const runtimeOf = (ctx: Context) => ctx.state.tenant as TenantRuntime;
const consolePath = (runtime: TenantRuntime) => `${runtime.basePath}/console`;
const issuerOf = (config: Config, runtime: TenantRuntime) => `${config.publicUrl}${runtime.basePath}`;

interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  stepUp: boolean;
  at: number;
}

function cookieOptions(config: Config, runtime: TenantRuntime, sameSite: 'strict' | 'lax', maxAgeSeconds: number) {
  return { httpOnly: true, sameSite, secure: config.secureCookies, path: consolePath(runtime), signed: true, maxAge: maxAgeSeconds * 1000, overwrite: true } as const;
}

/** Only a path inside this tenant's console is a place to come back to. */
function safeNext(runtime: TenantRuntime, value: unknown): string {
  const base = consolePath(runtime);
  if (typeof value !== 'string' || !(value === base || value.startsWith(`${base}/`) || value.startsWith(`${base}?`))) return base;
  if (value.startsWith(`${base}/api`) || /[\\\s]/.test(value) || value.includes('//') || value.includes('/..') || value.includes('%')) return base;
  return value;
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The console's language for this request, negotiated like every page (the language middleware has
 * already put the switcher's ?lang= or the facet_lang cookie first in Accept-Language), with its
 * catalogue and a formatter for its messages.
 */
export function consoleLanguage(ctx: Context) {
  const lang = negotiateLanguage(ctx.get('accept-language'));
  const t = consoleStringsOf(lang);
  return { lang, t, format: (message: string, values: Record<string, string | number> = {}) => fill(message, values, lang) };
}

function consolePage(ctx: Context, runtime: TenantRuntime, { title, body, status = 200, scripts = [] }: { title: string; body: SafeHtml; status?: number; scripts?: string[] }) {
  const nonce = securePage(ctx);
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = layout({ title, tenantName: runtime.tenant.name, nonce, scripts, lang: consoleLanguage(ctx).lang }, body).toString();
}

function messagePage(ctx: Context, runtime: TenantRuntime, status: number, heading: string, message: string, links: Array<{ href: string; label: string }> = []) {
  consolePage(ctx, runtime, {
    title: heading,
    status,
    body: html`<section class="card" role="alert"><h1>${heading}</h1><p>${message}</p>${links.map((l) => html`<p><a href="${l.href}">${l.label}</a></p>`)}</section>`,
  });
}

/** The console session of this request, with its user's roles (undefined when none or expired). */
async function currentSession(ctx: Context, deps: ConsoleDeps): Promise<{ session: ConsoleSession; principal: ConsolePrincipal } | undefined> {
  const runtime = runtimeOf(ctx);
  const token = ctx.cookies.get(CONSOLE_COOKIE, { signed: true });
  if (!token) return undefined;
  return withTenant(deps.db, runtime.tenant, async (trx) => {
    const session = await findConsoleSession(trx, token);
    if (!session) return undefined;
    const user = await findLiveUserById(trx, session.userId);
    if (!user) return undefined;
    const roles = await rolesOf(trx, session.userId);
    return {
      session,
      principal: { userId: user.id, username: user.username, roles, acr: session.acr, amr: session.amr, authTime: session.authTime, sessionHash: session.idHash },
    };
  });
}

const API_PATH = /^\/t\/([a-z0-9-]{2,40})\/console\/api(\/.*)$/;

/**
 * The console's calls to the admin API: /t/<slug>/console/api/<route> is answered by the admin API
 * route /t/<slug>/admin/api/<route>, authenticated by the console session instead of the bearer
 * token (roles per route and step-up: src/admin/auth.ts). Runs before the tenant's routes; true when
 * it answered itself (no session, CSRF refused).
 */
export function consoleBridge(deps: ConsoleDeps) {
  return async (ctx: Context): Promise<boolean> => {
    const match = API_PATH.exec(ctx.path);
    if (!match) return false;
    const found = await currentSession(ctx, deps);
    if (!found) {
      respondProblem(ctx, 401, 'console_session_required', 'Sign in to the console again.', { redirect: `${consolePath(runtimeOf(ctx))}/sign-in` });
      return true;
    }
    if (!['GET', 'HEAD'].includes(ctx.method) && !sameText(ctx.get('x-facet-csrf'), found.session.csrf)) {
      respondProblem(ctx, 403, 'csrf_failed', 'This request did not come from the console page (missing or wrong X-Facet-CSRF).');
      return true;
    }
    ctx.state.consolePrincipal = found.principal;
    ctx.path = `/t/${match[1]}/admin/api${match[2]}`;
    return false;
  };
}

async function verifyIdToken(config: Config, runtime: TenantRuntime, idToken: string, nonce: string): Promise<JWTPayload & { acr?: string; amr?: string[]; auth_time?: number; nonce?: string }> {
  const issuer = issuerOf(config, runtime);
  const { payload } = await jwtVerify(idToken, jwksFor(issuer), { issuer, audience: CONSOLE_CLIENT_ID, clockTolerance: 5 });
  if (payload.nonce !== nonce) throw new HttpError(400, 'console_sign_in_failed', 'Sign-in failed', 'The ID token does not answer this sign-in (nonce).');
  return payload as JWTPayload & { acr?: string; amr?: string[]; auth_time?: number; nonce?: string };
}

const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function jwksFor(issuer: string) {
  let set = jwksCache.get(issuer);
  if (!set) {
    // No cool-down: the only tokens verified here come from our own token endpoint (exchanged
    // server-side), so an unknown kid means the tenant's keys were just rotated; fetch at once
    // rather than refuse console sign-ins for the cool-down after a rotation.
    set = createRemoteJWKSet(new URL(`${issuer}/jwks`), { cooldownDuration: 0 });
    if (jwksCache.size > 1000) jwksCache.clear();
    jwksCache.set(issuer, set);
  }
  return set;
}

export function registerConsoleRoutes(router: Router, deps: ConsoleDeps): void {
  const { config, db } = deps;

  const startAuthorization = (ctx: Context, { stepUp }: { stepUp: boolean }) => {
    const runtime = runtimeOf(ctx);
    const verifier = randomBytes(32).toString('base64url');
    const pending: PendingLogin = {
      state: randomBytes(16).toString('base64url'),
      nonce: randomBytes(16).toString('base64url'),
      verifier,
      next: safeNext(runtime, ctx.query.next),
      stepUp,
      at: Math.floor(Date.now() / 1000),
    };
    // Lax: the way back from the sign-in pages is a redirect chain that may have begun elsewhere.
    ctx.cookies.set(CONSOLE_LOGIN_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), cookieOptions(config, runtime, 'lax', LOGIN_TTL_SECONDS));
    const params = new URLSearchParams({
      client_id: CONSOLE_CLIENT_ID,
      response_type: 'code',
      scope: 'openid profile email',
      redirect_uri: `${issuerOf(config, runtime)}/console/callback`,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
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

  router.get('/console/sign-in', async (ctx) => startAuthorization(ctx, { stepUp: false }));
  router.get('/console/step-up', async (ctx) => {
    if (!(await currentSession(ctx, deps))) return startAuthorization(ctx, { stepUp: false });
    startAuthorization(ctx, { stepUp: true });
  });

  router.get('/console/callback', async (ctx) => {
    const runtime = runtimeOf(ctx);
    const raw = ctx.cookies.get(CONSOLE_LOGIN_COOKIE, { signed: true });
    ctx.cookies.set(CONSOLE_LOGIN_COOKIE, null, { path: consolePath(runtime) });
    let pending: PendingLogin | undefined;
    try {
      pending = raw ? (JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PendingLogin) : undefined;
    } catch {
      pending = undefined;
    }
    const { t, format } = consoleLanguage(ctx);
    const again = [{ href: `${consolePath(runtime)}/sign-in`, label: t.signIn.signInAgain }];
    if (!pending || typeof ctx.query.state !== 'string' || !sameText(ctx.query.state, pending.state) || pending.at + LOGIN_TTL_SECONDS < Date.now() / 1000) {
      return messagePage(ctx, runtime, 400, t.signIn.expiredTitle, t.signIn.expired, again);
    }
    const error = typeof ctx.query.error === 'string' ? ctx.query.error : undefined;
    if (error) {
      if (error === 'unmet_authentication_requirements') {
        const need = pending.stepUp ? adminAcrOf(runtime.tenant.settings) : CONSOLE_READ_ACR;
        const what = runtime.acrPolicy.values[need]?.description ?? need;
        return messagePage(
          ctx,
          runtime,
          403,
          t.signIn.strongerTitle,
          format(t.signIn.stronger, { what: pending.stepUp ? 'action' : 'console', description: what, acr: need }),
          [
            { href: `${runtime.basePath}/account`, label: t.signIn.openAccount },
            { href: pending.next, label: t.signIn.backToConsole },
          ],
        );
      }
      if (error === 'access_denied') return messagePage(ctx, runtime, 403, t.signIn.cancelledTitle, t.signIn.cancelled, again);
      return messagePage(ctx, runtime, 400, t.signIn.failedTitle, format(t.signIn.failedWith, { error }), again);
    }
    if (typeof ctx.query.code !== 'string') return messagePage(ctx, runtime, 400, t.signIn.failedTitle, t.signIn.noCode, again);

    // The back channel: the code for tokens at the tenant's own token endpoint (PKCE, public client).
    const issuer = issuerOf(config, runtime);
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: ctx.query.code, redirect_uri: `${issuer}/console/callback`, client_id: CONSOLE_CLIENT_ID, code_verifier: pending.verifier }),
    });
    const tokens = (await response.json().catch(() => ({}))) as { id_token?: string; error?: string; error_description?: string };
    if (!response.ok || !tokens.id_token) {
      return messagePage(ctx, runtime, 400, t.signIn.failedTitle, format(t.signIn.tokenRefused, { reason: `${tokens.error ?? response.status}${tokens.error_description ? `: ${tokens.error_description}` : ''}` }), again);
    }
    const claims = await verifyIdToken(config, runtime, tokens.id_token, pending.nonce).catch((cause: Error) => {
      throw cause instanceof HttpError ? cause : new HttpError(400, 'console_sign_in_failed', 'Sign-in failed', `The ID token did not verify (${cause.message}).`);
    });
    const sub = String(claims.sub);
    const acr = typeof claims.acr === 'string' ? claims.acr : '';
    const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : Math.floor(Date.now() / 1000);
    if (!acrSatisfies(runtime.acrPolicy, acr, CONSOLE_READ_ACR)) {
      return messagePage(ctx, runtime, 403, t.signIn.passkeyTitle, format(t.signIn.passkeyNeeded, { acr: CONSOLE_READ_ACR, reached: acr || t.signIn.noAcr }), again);
    }

    const existing = await currentSession(ctx, deps);
    const outcome = await withTenant(db, runtime.tenant, async (trx) => {
      // Roles the tenant file declares for this user are granted on first sign-in (they may have signed up after the apply).
      const declared = runtime.tenant.settings.admins ?? [];
      if (declared.length > 0) await syncFileAdmins(trx, declared);
      const roles = await rolesOf(trx, sub);
      if (roles.length === 0) return { roles, token: undefined };
      const stepUp = pending.stepUp && existing?.principal.userId === sub;
      let token: string | undefined;
      if (stepUp) {
        await stepUpConsoleSession(trx, existing!.session.idHash, { acr, amr, authTime, idToken: tokens.id_token ?? null });
      } else {
        ({ token } = await openConsoleSession(trx, { userId: sub, acr, amr, authTime, idToken: tokens.id_token ?? null }));
      }
      await appendAudit(trx, {
        type: 'console.signed_in',
        actor: sub,
        subject: sub,
        clientId: CONSOLE_CLIENT_ID,
        ip: ctx.ip,
        userAgent: ctx.get('user-agent') || null,
        requestId: (ctx.state.requestId as string | undefined) ?? null,
        data: { acr, roles, step_up: stepUp },
      });
      return { roles, token };
    });
    if (outcome.roles.length === 0) {
      return messagePage(ctx, runtime, 403, t.signIn.noAccessTitle, t.signIn.noAccess, [
        { href: `${runtime.basePath}/account`, label: t.signIn.yourAccount },
      ]);
    }
    if (outcome.token) ctx.cookies.set(CONSOLE_COOKIE, outcome.token, cookieOptions(config, runtime, 'strict', CONSOLE_SESSION_TTL_SECONDS));
    if (pending.stepUp) {
      const state = stepUpState({ acr, authTime }, runtime.acrPolicy, runtime.tenant.settings);
      if (state.freshUntil === null) {
        return messagePage(ctx, runtime, 403, t.signIn.stepUpNotReachedTitle, format(t.signIn.stepUpNotReached, { acr, adminAcr: state.adminAcr, minutes: STEP_UP_MAX_AGE_SECONDS / 60 }), [
          { href: pending.next, label: t.signIn.backToConsole },
        ]);
      }
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(pending.next);
  });

  router.post('/console/sign-out', async (ctx) => {
    const runtime = runtimeOf(ctx);
    const token = ctx.cookies.get(CONSOLE_COOKIE, { signed: true });
    const found = await currentSession(ctx, deps);
    // A form post from the console page carries the session's CSRF token in a field.
    const body = await readForm(ctx);
    if (found && token && sameText(String(body.csrf ?? ''), found.session.csrf)) {
      await withTenant(db, runtime.tenant, async (trx) => {
        await closeConsoleSession(trx, token);
        await appendAudit(trx, { type: 'console.signed_out', actor: found.principal.userId, subject: found.principal.userId, ip: ctx.ip, data: {} });
      });
    } else if (found) {
      throw new HttpError(403, 'csrf_failed', 'Forbidden', 'This sign-out did not come from the console page.');
    }
    ctx.cookies.set(CONSOLE_COOKIE, null, { path: consolePath(runtime) });
    const { t } = consoleLanguage(ctx);
    messagePage(ctx, runtime, 200, t.signIn.signedOutTitle, t.signIn.signedOut, [{ href: `${consolePath(runtime)}/sign-in`, label: t.signIn.signInAgainLink }]);
  });

  // The app's shell, for every console page (the app routes on the client).
  const shell = async (ctx: Context) => {
    const runtime = runtimeOf(ctx);
    const found = await currentSession(ctx, deps);
    if (!found) {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 303;
      ctx.redirect(`${consolePath(runtime)}/sign-in?${new URLSearchParams({ next: safeNext(runtime, ctx.path + (ctx.querystring ? `?${ctx.querystring}` : '')) })}`);
      return;
    }
    const { lang, t, format } = consoleLanguage(ctx);
    if (found.principal.roles.length === 0) {
      return messagePage(ctx, runtime, 403, t.signIn.noAccessTitle, t.signIn.noAccessAnyMore, [{ href: `${runtime.basePath}/account`, label: t.signIn.yourAccount }]);
    }
    const nonce = securePage(ctx);
    ctx.type = 'html';
    ctx.body = appShellPage({
      lang,
      title: format(t.shell.title, { tenant: runtime.tenant.name }),
      stylesheets: ['/assets/facet.css', '/assets/console.css', '/assets/build/console.css'],
      mount: { id: 'console', 'data-base': consolePath(runtime), 'data-tenant': runtime.tenant.name, 'data-slug': runtime.tenant.slug, 'data-csrf': found.session.csrf, 'data-account': `${runtime.basePath}/account` },
      noscript: format(t.shell.noscript, { openapi: `${runtime.basePath}/admin/api/openapi.json` }),
      script: '/assets/build/console.js',
      nonce,
    });
  };
  for (const page of CONSOLE_PAGES) router.get(`/console${page}`, shell);
}

/** The console app's own pages (client-side routes), each served the shell. */
export const CONSOLE_PAGES = ['', '/overview', '/users', '/users/:id', '/admins', '/keys', '/clients', '/clients/:id', '/policies', '/branding', '/audit'] as const;

async function readForm(ctx: Context): Promise<Record<string, unknown>> {
  return readBody(ctx).catch(() => ({}));
}
