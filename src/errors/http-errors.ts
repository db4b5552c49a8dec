// Errors that are HTTP answers by nature: thrown by handlers and middleware, answered by the one
// responder at the HTTP edge (src/http/error-responder.ts), which picks OAuth JSON, problem+json
// (RFC 9457) or a page. This module renders nothing and imports nothing from the views.
import { FacetError, type FacetErrorOptions } from './facet-error.ts';

export class HttpError extends FacetError {
  readonly code: string;
  declare readonly title: string;
  declare readonly detail: string;
  /** Extension members of the problem+json answer (RFC 9457 §3.2), e.g. `errors` naming each field. */
  readonly extensions: Readonly<Record<string, unknown>> | undefined;
  constructor(
    status: number,
    code: string,
    title: string,
    detail: string,
    { extensions, ...options }: Omit<FacetErrorOptions, 'status' | 'title' | 'detail'> & { extensions?: Record<string, unknown> } = {},
  ) {
    super(detail, { expose: true, ...options, status, title, detail });
    this.code = code;
    this.extensions = extensions;
  }
}

/** The problem title of each status Facet answers with. */
export const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  423: 'Locked',
  429: 'Too Many Requests',
  503: 'Temporarily unavailable',
};

/**
 * A refusal a JSON step answers with: the message for the person as `detail`, the stable reason as
 * `code`, and `extensions` as extra members (e.g. `redirect`).
 */
export function refusal(status: number, code: string, detail: string, extensions?: Record<string, unknown>): HttpError {
  return new HttpError(status, code, STATUS_TITLES[status] ?? 'Error', detail, extensions ? { extensions } : {});
}

export const notFound = (detail: string) => new HttpError(404, 'not_found', 'Not found', detail);
export const badRequest = (detail: string, code = 'bad_request') => new HttpError(400, code, 'Bad request', detail);
export const forbidden = (detail: string, code = 'forbidden') => new HttpError(403, code, 'Forbidden', detail);

/** 429 with Retry-After; `detail` is what the caller is told (default: when to try again). */
export function tooManyRequests(retryAfterSeconds: number, detail?: string): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new HttpError(429, 'rate_limited', 'Too Many Requests', detail ?? `Too many requests. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, {
    headers: { 'Retry-After': String(seconds) },
  });
}
