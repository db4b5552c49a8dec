// Keeps the device authorization grant's user-code pages (provider-pages.ts) from ending in 500.
//
// Why every `POST …/device` with a wrong, missing or stale code answered 500: oidc-provider shows
// user-code errors through userCodeInputSource after putting a fresh xsrf secret on the browser
// session. For a browser without a saved session (a first visit by POST, an expired cookie, a
// script) that session had never been stored, so oidc-provider's final "persist the touched
// session" step threw `TypeError: persist can only be called on previously persisted Sessions`
// after the page had been rendered. The wrapper saves such a session first (cookie and record,
// as oidc-provider's own session middleware does), so the form on the page carries an xsrf token
// that verifies on the next try. `GET …/device/auth` matched the resume route (`/device/:uid`)
// and failed the same way; the device authorization endpoint now answers it 405.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { TOKEN_TTLS } from './ttl.ts';

interface SessionLike {
  id: string;
  exp?: number;
  touched?: boolean;
  destroyed?: boolean;
  save(ttl: number): Promise<unknown>;
}

type InputSource = (ctx: KoaContextWithOIDC, form: string, out: unknown, err?: unknown) => Promise<void>;

/** Wraps userCodeInputSource: saves a fresh session first; a refused code is a 400, not 200. */
export function savingSession(source: InputSource, sessionCookie: object): InputSource {
  return async (ctx, form, out, err) => {
    const session = ctx.oidc?.session as unknown as SessionLike | undefined;
    if (session && typeof session.exp !== 'number' && session.touched && !session.destroyed) {
      ctx.oidc.cookies.set(ctx.oidc.provider.cookieName('session'), session.id, sessionCookie as never);
      await session.save(TOKEN_TTLS.Session);
    }
    await source(ctx, form, out, err);
    // oidc-provider re-renders a wrong code with 200; it is a refused input.
    if (err && ctx.status < 400) ctx.status = 400;
  };
}

/** The device authorization endpoint takes POST (RFC 8628 §3.1); other methods get a specific answer. */
export async function deviceAuthorizationMethod(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<unknown> {
  if (ctx.path !== '/device/auth' || ctx.method === 'POST' || ctx.method === 'OPTIONS') return next();
  ctx.status = 405;
  ctx.set('Allow', 'POST');
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json';
  ctx.body = { error: 'invalid_request', error_description: 'the device authorization endpoint accepts POST only (RFC 8628 section 3.1)' };
  return undefined;
}
