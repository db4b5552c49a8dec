// One error family for everything that is not an OAuth endpoint (oidc-provider answers those with
// OAuth error JSON itself). The handler decides the representation: problem+json (RFC 9457) for
// API clients, an HTML page for browsers. Unexpected errors become a generic 500 with the
// correlation id, never a stack trace.
import type { Context, Next } from 'koa';
import { messagePage } from '../../views/layout.ts';

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

export function errorHandler({ onUnexpected }: { onUnexpected: (error: unknown, ctx: Context) => void }) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        respondWithError(ctx, notFound(`nothing is served at ${ctx.path}`));
      }
    } catch (error) {
      if (error instanceof HttpError) return respondWithError(ctx, error);
      const status = (error as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
        return respondWithError(ctx, new HttpError(status, 'bad_request', 'Bad request', (error as Error).message));
      }
      onUnexpected(error, ctx);
      respondWithError(ctx, new HttpError(500, 'internal_error', 'Internal error', 'Something went wrong on our side.'));
    }
  };
}
