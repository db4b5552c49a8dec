// The one request-body reader. Every route that takes a body reads it here: a urlencoded form or
// JSON, with a size limit from BODY_LIMITS (checked against Content-Length first, then while
// reading), parsed once per request (the guard, the CSRF check and the handler share it). Errors
// are the family's: 413 body_too_large, 400 invalid_json, 415 unsupported_media_type.
//
// Why not koa-body: Facet accepts no multipart uploads (face pictures come as base64 JSON), so
// koa-body's formidable half is dead weight, and its co-body errors carry their own status and
// messages instead of our codes. Reading a body is twenty lines; the dependency is removed.
import type { Context, Next } from 'koa';
import { HttpError } from '../../errors/http-errors.ts';
import { BODY_LIMITS } from '../../config/defaults.ts';

/** Body size limits in bytes: src/config/defaults.ts. */
export { BODY_LIMITS };

export interface ReadBodyOptions {
  /** Bytes (default BODY_LIMITS.page). */
  limit?: number;
  /** 'json': only JSON is accepted (an empty body is {}); 'form-or-json' (default): either. */
  accept?: 'json' | 'form-or-json';
  /** What to say when the body is too large. */
  tooLarge?: string;
}

const parsed = new WeakMap<object, Record<string, any>>();

function tooLarge(limit: number, detail?: string): HttpError {
  return new HttpError(413, 'body_too_large', 'Payload too large', detail ?? `The request body is limited to ${Math.floor(limit / 1024)} KiB.`);
}

/**
 * A body, if one is sent, must be JSON: 415 otherwise. Checked on its own too, for a JSON route
 * whose body was already read by an earlier check (the CSRF token of a page's JSON call).
 */
export function requireJsonBody(ctx: Context): void {
  const sent = Number(ctx.get('content-length') || 0) > 0 || Boolean(ctx.get('transfer-encoding'));
  if (sent && !ctx.is('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as JSON (Content-Type: application/json).');
  }
}

/** Reads the request body once (later calls return the same object). */
export async function readBody(ctx: Context, { limit = BODY_LIMITS.page, accept = 'form-or-json', tooLarge: tooLargeDetail }: ReadBodyOptions = {}): Promise<Record<string, any>> {
  const done = parsed.get(ctx.req);
  if (done) return done;
  const json = Boolean(ctx.is('application/json'));
  const declared = Number(ctx.get('content-length') || 0);
  if (accept === 'json') requireJsonBody(ctx);
  if (declared > limit) throw tooLarge(limit, tooLargeDetail);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit, tooLargeDetail);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: Record<string, any>;
  if (json) {
    try {
      const value: unknown = JSON.parse(text || '{}');
      body = value && typeof value === 'object' ? (value as Record<string, any>) : {};
    } catch (cause) {
      throw new HttpError(400, 'invalid_json', 'Bad request', 'The request body is not valid JSON.', { cause });
    }
  } else {
    body = Object.fromEntries(new URLSearchParams(text));
  }
  parsed.set(ctx.req, body);
  return body;
}

/** Middleware form: reads the body before the route (state.body), for routes that declare one. */
export function parseBody(options: ReadBodyOptions = {}) {
  return async (ctx: Context, next: Next) => {
    ctx.state.body = await readBody(ctx, options);
    await next();
  };
}
