// CSRF: a token bound to the interaction uid or the account session, keyed (HMAC) and not stored.
// Pages put it in a hidden field (`csrf`) or send it with their JSON (`csrf`); a missing or wrong
// token is a 403 csrf_failed with the page's own words.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { HttpError } from '../../errors/http-errors.ts';
import { stringsFor } from '../../../views/strings/index.ts';
import { readBody } from './body.ts';

/** A CSRF token for one binding (interaction uid, account session): keyed, not stored. */
export function csrfToken(key: string, binding: string): string {
  return createHmac('sha256', key).update(`facet-csrf-v1:${binding}`).digest('base64url');
}

export function checkCsrf(ctx: Context, key: string, binding: string, given: unknown): void {
  const expected = Buffer.from(csrfToken(key, binding));
  const actual = Buffer.from(typeof given === 'string' ? given : '');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    const t = stringsFor(ctx.get('accept-language'));
    throw new HttpError(403, 'csrf_failed', t.errors.csrfTitle, t.errors.csrf);
  }
}

/**
 * Middleware: the body's `csrf` field (or an X-CSRF-Token header) must be the token of the binding
 * the route names (the interaction uid, the account session id).
 */
export function requireCsrf(key: string, binding: (ctx: Context) => string | Promise<string>) {
  return async (ctx: Context, next: Next) => {
    const body = await readBody(ctx);
    checkCsrf(ctx, key, await binding(ctx), ctx.get('x-csrf-token') || body.csrf);
    await next();
  };
}
