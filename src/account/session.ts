// Who is signed in to the account page: the page's own session cookie (sessions.ts), resolved to
// an active user, with the CSRF token bound to that session.
import type { Context, Middleware } from 'koa';
import { FacetError } from '../errors/facet-error.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { respondProblem } from '../http/error-responder.ts';
import { findLiveUserById, type User } from '../accounts/users.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { stringsFor } from '../../views/strings/index.ts';
import { csrfToken } from '../interaction/http.ts';
import { ACCOUNT_COOKIE, csrfKey, verifyPostedCsrf, type InteractionDeps } from '../interaction/flow.ts';
import { findAccountSession } from './sessions.ts';

export interface AccountContext {
  runtime: TenantRuntime;
  user: User;
  token: string;
  /** `account:<id hash>`: the CSRF binding, and the session's key in session_factors. */
  binding: string;
  csrf: string;
  base: string;
}

async function signedIn(ctx: Context, deps: InteractionDeps): Promise<AccountContext | undefined> {
  const runtime = ctx.state.tenant as TenantRuntime;
  const token = ctx.cookies.get(ACCOUNT_COOKIE, { signed: true });
  if (!token) return undefined;
  const found = await withTenant(deps.db, runtime.tenant, async (trx) => {
    const session = await findAccountSession(trx, token);
    const user = session ? await findLiveUserById(trx, session.userId) : undefined;
    return session && user && user.status === 'active' ? { session, user } : undefined;
  });
  if (!found) return undefined;
  const binding = `account:${found.session.idHash}`;
  return { runtime, user: found.user, token, binding, csrf: csrfToken(csrfKey(deps.config), binding), base: `${runtime.basePath}/account` };
}

/** Per-route options of the account session: `html` may be decided per request. */
export interface AccountSessionOptions {
  /** Redirect to sign-in (true, the default) or answer a JSON 401 (false). */
  html?: boolean | ((ctx: Context) => boolean);
  /** Check a POST's CSRF token against the session (default true). */
  csrf?: boolean;
}

/**
 * The signed-in account, or undefined after answering (a redirect to sign-in, or a JSON 401). A
 * POST's CSRF token is checked against the session here (`csrf: false` for routes that read a
 * larger body themselves first, the face pictures).
 */
async function requireSession(ctx: Context, deps: InteractionDeps, { html = true, csrf = true }: { html?: boolean; csrf?: boolean } = {}): Promise<AccountContext | undefined> {
  const account = await signedIn(ctx, deps);
  if (account && csrf) await verifyPostedCsrf(ctx, deps.config, account.binding);
  if (!account) {
    const runtime = ctx.state.tenant as TenantRuntime;
    if (html) {
      ctx.status = 303;
      ctx.redirect(`${runtime.basePath}/account/sign-in`);
    } else {
      respondProblem(ctx, 401, 'not_signed_in', stringsFor(ctx.get('accept-language')).errors.pendingGone);
    }
  }
  return account;
}

const accounts = new WeakMap<Context, AccountContext>();

/** A route without `accountSession` in front asked for the account: a programming error (500). */
export class AccountSessionMissing extends FacetError {
  readonly code = 'account_session_missing';
  constructor() {
    super('accountOf(ctx) on a route without the accountSession middleware');
  }
}

/**
 * Router middleware declared per route: the signed-in account (see requireSession) is stored for
 * `accountOf(ctx)` and the route runs; otherwise the answer is given here and the route does not run.
 */
export function accountSession(deps: InteractionDeps, { html = true, csrf = true }: AccountSessionOptions = {}): Middleware {
  return async (ctx, next) => {
    const account = await requireSession(ctx, deps, { html: typeof html === 'function' ? html(ctx) : html, csrf });
    if (!account) return;
    accounts.set(ctx, account);
    await next();
  };
}

/** The account stored by `accountSession`; throws AccountSessionMissing (500) on a route without it. */
export function accountOf(ctx: Context): AccountContext {
  const account = accounts.get(ctx);
  if (!account) throw new AccountSessionMissing();
  return account;
}
