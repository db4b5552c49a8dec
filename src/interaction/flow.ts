// A "flow" is the context the sign-in and sign-up steps run in: an OIDC interaction
// (/t/<slug>/interaction/<uid>, finished with interactionResult) or the account page's own
// sign-in (/t/<slug>/account/sign-in, finished by opening an account-page session). The steps
// only see this interface, so each page exists once.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Config } from '../config/index.ts';
import type { Services } from '../services.ts';
import { ACCOUNT_SESSION_TTL_SECONDS } from '../config/defaults.ts';
import { HttpError } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { accountSessionKey, openAccountSession } from '../account/sessions.ts';
import { recordSessionFactor } from '../stepup/session-factors.ts';
import type { InteractionView } from '../oidc/facade.ts';
import { stringsFor, type Strings } from '../../views/strings/index.ts';
import { preferUiLocales } from '../http/middleware/language.ts';
import type { PageContext } from '../../ui/pages/interaction.tsx';
import { checkCsrf, csrfToken, readBody, securePage } from './http.ts';
import type { CompletedLogin } from './pending.ts';
import type { RootDb } from '../db/client.ts';

export interface InteractionDeps {
  config: Config;
  db: RootDb;
  logger: import('pino').Logger;
  /** The installation's limits, metrics, key rings and face engine (no service locator on ctx.state). */
  services: Services;
}

export interface Flow {
  kind: 'interaction' | 'account';
  runtime: TenantRuntime;
  /** Key for challenges, pending steps and the CSRF token. */
  binding: string;
  base: string;
  csrf: string;
  t: Strings;
  clientName?: string | undefined;
  details?: InteractionView;
  /** Finishes the login and returns where the browser goes next. */
  complete(login: CompletedLogin): Promise<string>;
}

export function csrfKey(config: Config): string {
  return `csrf:${config.cookieKeys[0]}`;
}

/**
 * CSRF for every form and JSON step: a POST must carry the token of the binding it acts under (in
 * its body's `csrf` field or an X-CSRF-Token header). Checked where the binding becomes known (the
 * interaction, the account-page flow, the account session), so no handler writes it out.
 */
export async function verifyPostedCsrf(ctx: Context, config: Config, binding: string): Promise<void> {
  if (ctx.method !== 'POST') return;
  const body = await readBody(ctx);
  checkCsrf(ctx, csrfKey(config), binding, ctx.get('x-csrf-token') || body.csrf);
}

/**
 * The interaction of this request. A POST's CSRF token is checked here, unless the route reads a
 * larger body itself first (`csrf: false`: the face pages, whose pictures exceed the page limit).
 */
export async function interactionFlow(ctx: Context, deps: InteractionDeps, { csrf = true }: { csrf?: boolean } = {}): Promise<Flow> {
  const runtime = ctx.state.tenant as TenantRuntime;
  let details;
  try {
    details = await runtime.oidc.interaction(ctx.req, ctx.res);
  } catch (cause) {
    const gone = stringsFor(ctx.get('accept-language'));
    throw new HttpError(400, 'interaction_expired', gone.signIn.title, gone.errors.interactionGone, { cause });
  }
  preferUiLocales(ctx, details.params.ui_locales);
  const t = stringsFor(ctx.get('accept-language'));
  if (details.uid !== ctx.params.uid) throw new HttpError(400, 'interaction_expired', t.signIn.title, t.errors.interactionGone);
  const binding = `interaction:${details.uid}`;
  if (csrf) await verifyPostedCsrf(ctx, deps.config, binding);
  const client = await runtime.oidc.client(details.clientId);
  return {
    kind: 'interaction',
    runtime,
    binding,
    base: `${runtime.basePath}/interaction/${details.uid}`,
    csrf: csrfToken(csrfKey(deps.config), binding),
    t,
    clientName: client?.name ?? details.clientId,
    details,
    complete: (login) =>
      runtime.oidc.finishLogin(ctx.req, ctx.res, { accountId: login.userId, amr: login.amr, acr: login.acr, authTime: login.authTime, factors: login.factors ?? [] }),
  };
}

export const FLOW_COOKIE = 'facet_flow';
export const ACCOUNT_COOKIE = 'facet_account';

export function accountCookieOptions(config: Config, runtime: TenantRuntime) {
  return { path: `${runtime.basePath}/account`, httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies, signed: true, overwrite: true };
}

/** The account page's pre-session flow, identified by a random cookie made on first visit. */
export function accountFlow(ctx: Context, deps: InteractionDeps, { create }: { create: boolean }): Flow {
  const runtime = ctx.state.tenant as TenantRuntime;
  const t = stringsFor(ctx.get('accept-language'));
  const options = accountCookieOptions(deps.config, runtime);
  let id = ctx.cookies.get(FLOW_COOKIE, { signed: true });
  if (!id || !/^[A-Za-z0-9_-]{32,64}$/.test(id)) {
    if (!create) throw new HttpError(403, 'csrf_failed', t.errors.csrfTitle, t.errors.csrf);
    id = randomBytes(24).toString('base64url');
    ctx.cookies.set(FLOW_COOKIE, id, { ...options, maxAge: 30 * 60 * 1000 });
  }
  const binding = `account-flow:${id}`;
  return {
    kind: 'account',
    runtime,
    binding,
    base: `${runtime.basePath}/account/sign-in`,
    csrf: csrfToken(csrfKey(deps.config), binding),
    t,
    complete: async (login) => {
      const token = await withTenant(deps.db, runtime.tenant, async (trx) => {
        const opened = await openAccountSession(trx, { userId: login.userId, amr: login.amr });
        // What this sign-in proved, with its time: the account page's fresh proof reads it.
        for (const factor of login.factors ?? []) {
          await recordSessionFactor(trx, { sessionUid: `account:${accountSessionKey(opened)}`, userId: login.userId, factor: factor.factor, at: new Date(factor.at * 1000), amr: factor.amr });
        }
        return opened;
      });
      ctx.cookies.set(ACCOUNT_COOKIE, token, { ...options, maxAge: ACCOUNT_SESSION_TTL_SECONDS * 1000 });
      ctx.cookies.set(FLOW_COOKIE, null, options);
      return `${runtime.basePath}/account`;
    },
  };
}

export function pageContext(ctx: Context, flow: Flow): PageContext {
  return {
    t: flow.t,
    tenantName: flow.runtime.tenant.name,
    logoUrl: flow.runtime.settings.logo_url,
    nonce: securePage(ctx),
    csrf: flow.csrf,
    base: flow.base,
  };
}
