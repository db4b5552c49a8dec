// Request plumbing for Facet's own pages: the per-response CSP nonce, CSRF tokens bound to the
// interaction or session, small body parsing, and the request facts every audit event carries.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { HttpError } from '../errors/http-errors.ts';
import { stringsFor } from '../../views/strings/index.ts';

/** Sets a strict Content-Security-Policy with a fresh nonce and returns the nonce. */
export function securePage(ctx: Context): string {
  const nonce = randomBytes(16).toString('base64');
  ctx.set(
    'Content-Security-Policy',
    [
      "default-src 'self'",
      `script-src 'self' 'nonce-${nonce}'`,
      "style-src 'self'",
      "img-src 'self' https: data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  );
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cache-Control', 'no-store');
  return nonce;
}

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

const LIMIT = 64 * 1024;

/** Reads a urlencoded form or a JSON body (at most 64 KiB) into a plain object. */
export async function readBody(ctx: Context): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new HttpError(413, 'too_large', 'Request too large', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (ctx.is('application/json')) {
    try {
      const parsed = JSON.parse(text || '{}');
      return parsed && typeof parsed === 'object' ? parsed : {};
    } catch (cause) {
      throw new HttpError(400, 'bad_json', 'Bad request', 'The request body is not valid JSON.', { cause });
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function requestFacts(ctx: Context) {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || null, requestId: (ctx.state.requestId as string | undefined) ?? null };
}

export function htmlResponse(ctx: Context, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}
