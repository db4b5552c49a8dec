// One error family for everything that is not an OAuth endpoint (oidc-provider answers those with
// OAuth error JSON itself). The handler decides the representation: problem+json (RFC 9457) for
// API clients, an HTML page for browsers. Unexpected errors become a generic 500 with the
// correlation id, never a stack trace.
import type { Context, Next } from 'koa';
import { messagePage } from '../../views/layout.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../db/errors.ts';
import { isUnstorableInputError } from '../db/unstorable.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  constructor(status: number, code: string, title: string, detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
  }
}

export const notFound = (detail: string) => new HttpError(404, 'not_found', 'Not found', detail);
export const badRequest = (detail: string, code = 'bad_request') => new HttpError(400, code, 'Bad request', detail);
export const forbidden = (detail: string, code = 'forbidden') => new HttpError(403, code, 'Forbidden', detail);

function wantsHtml(ctx: Context): boolean {
  return ctx.accepts(['application/json', 'application/problem+json', 'text/html']) === 'text/html';
}

export function respondWithError(ctx: Context, error: HttpError): void {
  ctx.status = error.status;
  const requestId = (ctx.state.requestId as string | undefined) ?? undefined;
  if (wantsHtml(ctx)) {
    ctx.type = 'html';
    ctx.body = messagePage({
      title: error.title,
      heading: error.title,
      message: error.detail,
      ...(requestId ? { detail: `Reference: ${requestId}` } : {}),
    }).value;
    return;
  }
  ctx.type = 'application/problem+json';
  ctx.body = {
    type: `https://facet.dev/problems/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...(requestId ? { request_id: requestId } : {}),
  };
}

/** Tenant OAuth endpoints that answer OAuth error JSON (RFC 6749 §5.2), not problem+json. */
const OAUTH_JSON_ENDPOINT = /^\/t\/[a-z0-9-]+\/(?:token(?:\/introspection|\/revocation)?|request|device\/auth|me|reg(?:\/.*)?)$/;

/** Every tenant OAuth/OIDC endpoint oidc-provider serves (browser ones included). */
const OAUTH_ENDPOINT = /^\/t\/[a-z0-9-]+\/(?:auth(?:\/[^/]+)?|token(?:\/introspection|\/revocation)?|request|device(?:\/.*)?|me|reg(?:\/.*)?|session\/end(?:\/.*)?|backchannel)$/;

/**
 * Bad input on any tenant route: `invalid_request`, as OAuth error JSON on the OAuth endpoints (an
 * error page when a browser asks), else problem+json or a page like every other error.
 */
export function respondInvalidRequest(ctx: Context, detail: string): void {
  ctx.set('Cache-Control', 'no-store');
  if (OAUTH_ENDPOINT.test(ctx.path)) {
    ctx.status = 400;
    if (wantsHtml(ctx)) {
      ctx.type = 'html';
      ctx.body = messagePage({ title: 'Sign-in problem', heading: 'Something went wrong', message: detail, detail: 'Error code: invalid_request' }).value;
    } else {
      ctx.type = 'application/json';
      ctx.body = { error: 'invalid_request', error_description: detail };
    }
    return;
  }
  respondWithError(ctx, new HttpError(400, 'invalid_request', 'Bad request', detail));
}

/**
 * The database is unreachable: 503 with Retry-After, as OAuth JSON (`temporarily_unavailable`) on
 * the OAuth endpoints, else problem+json or a page like every other error.
 */
export function respondUnavailable(ctx: Context, retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS): void {
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  const detail = `The service is briefly unavailable. Try again in ${retryAfterSeconds} seconds.`;
  if (OAUTH_JSON_ENDPOINT.test(ctx.path)) {
    ctx.status = 503;
    ctx.type = 'application/json';
    ctx.body = { error: 'temporarily_unavailable', error_description: detail };
    return;
  }
  respondWithError(ctx, new HttpError(503, 'temporarily_unavailable', 'Temporarily unavailable', detail));
}

export function errorHandler({ onUnexpected, onUnavailable = () => {} }: { onUnexpected: (error: unknown, ctx: Context) => void; onUnavailable?: (error: unknown, ctx: Context) => void }) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        respondWithError(ctx, notFound(`nothing is served at ${ctx.path}`));
      }
    } catch (error) {
      // Checked first: a step may wrap the outage in its own error (as its cause).
      if (isDatabaseUnavailable(error)) {
        onUnavailable(error, ctx);
        return respondUnavailable(ctx);
      }
      if (error instanceof HttpError) return respondWithError(ctx, error);
      // PostgreSQL refusing a string (NUL, unpaired surrogate) that got past the early checks.
      if (isUnstorableInputError(error)) return respondInvalidRequest(ctx, 'The request contains a NUL character or an unpaired surrogate, which is not allowed.');
      const status = (error as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
        return respondWithError(ctx, new HttpError(status, 'bad_request', 'Bad request', (error as Error).message));
      }
      onUnexpected(error, ctx);
      respondWithError(ctx, new HttpError(500, 'internal_error', 'Internal error', 'Something went wrong on our side.'));
    }
  };
}
