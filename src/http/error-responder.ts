// The one error responder. Every error answer Facet writes itself goes through here, and the
// representation is decided in one place, by route and by what the caller asked for:
//
// | request                                                        | answer                     |
// |----------------------------------------------------------------|----------------------------|
// | OAuth endpoint (token, introspection, revocation, PAR, device  | OAuth error JSON           |
// | authorization, userinfo, registration), error OAuth has a code | (RFC 6749 §5.2)            |
// | for (invalid_request, temporarily_unavailable, server_error)   |                            |
// | browser OAuth endpoint (auth, device, end session), same errors| page if HTML is preferred, |
// |                                                                | else OAuth error JSON      |
// | admin API, a JSON body, or JSON preferred over HTML            | problem+json (RFC 9457)    |
// | anything else preferring HTML (browser pages)                  | an HTML page               |
//
// Every answer carries the error's headers (Retry-After on 429 and 503) and Cache-Control: no-store.
// Unexpected errors become a generic 500 with the request id, never a stack trace. Pages are
// rendered here, at the HTTP edge, so src/errors/ stays free of the views.
import type { Context, Next } from 'koa';
import { messagePage } from '../../ui/components/layout.tsx';
import { fill, stringsFor } from '../../views/strings/index.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../db/errors.ts';
import { isUnstorableInputError } from '../db/unstorable.ts';
import { HttpError, STATUS_TITLES, tooManyRequests } from '../errors/http-errors.ts';
import { FacetError } from '../errors/facet-error.ts';

export type Representation = 'oauth' | 'problem' | 'html';

/** Tenant OAuth endpoints that answer OAuth error JSON (RFC 6749 §5.2), never pages. */
const OAUTH_JSON_ENDPOINT = /^\/t\/[a-z0-9-]+\/(?:token(?:\/introspection|\/revocation)?|request|device\/auth|me|reg(?:\/.*)?)$/;
/** Every tenant OAuth/OIDC endpoint oidc-provider serves (browser ones included). */
const OAUTH_ENDPOINT = /^\/t\/[a-z0-9-]+\/(?:auth(?:\/[^/]+)?|token(?:\/introspection|\/revocation)?|request|device(?:\/.*)?|me|reg(?:\/.*)?|session\/end(?:\/.*)?|backchannel)$/;
const ADMIN_API = /^\/t\/[a-z0-9-]+\/admin\/api(?:\/|$)/;

/** Facet codes that have an OAuth error code (RFC 6749 §4.1.2.1, §5.2). */
const OAUTH_CODES: Record<string, string> = {
  invalid_request: 'invalid_request',
  rate_limited: 'temporarily_unavailable',
  temporarily_unavailable: 'temporarily_unavailable',
  internal_error: 'server_error',
};

export function prefersHtml(ctx: Context): boolean {
  return ctx.accepts(['application/json', 'application/problem+json', 'text/html']) === 'text/html';
}

/** Whether the request is a JSON call (admin API, a JSON body, or JSON preferred over HTML). */
export function isJsonCall(ctx: Context): boolean {
  return ADMIN_API.test(ctx.path) || Boolean(ctx.is('application/json')) || !prefersHtml(ctx);
}

export function representationFor(ctx: Context, code: string): Representation {
  if (OAUTH_CODES[code] && OAUTH_ENDPOINT.test(ctx.path)) {
    if (OAUTH_JSON_ENDPOINT.test(ctx.path) || !prefersHtml(ctx)) return 'oauth';
    return 'html';
  }
  return isJsonCall(ctx) ? 'problem' : 'html';
}

export interface ErrorAnswer {
  status: number;
  code: string;
  title: string;
  detail: string;
  headers?: Readonly<Record<string, string>>;
  /** Extension members for problem+json (e.g. `redirect`). */
  extensions?: Record<string, unknown>;
}

/** The answer an error stands for: exposed errors say what happened, others say nothing. */
export function answerFor(error: unknown): ErrorAnswer {
  if (error instanceof FacetError && error.expose) {
    const extensions = error instanceof HttpError ? error.extensions : undefined;
    return { status: error.status, code: error.code, title: error.title ?? 'Error', detail: error.detail ?? error.message, headers: error.headers, ...(extensions ? { extensions } : {}) };
  }
  return { status: 500, code: 'internal_error', title: 'Internal error', detail: 'Something went wrong on our side.' };
}

/** Under a tenant, its name, logo and colours on the error page (issue 18), never a bare "Facet". */
function tenantBrand(ctx: Context): { tenantName?: string; logoUrl?: string; base?: string } {
  const runtime = ctx.state.tenant as { tenant?: { name?: string }; settings?: { logo_url?: string }; basePath?: string } | undefined;
  if (!runtime?.tenant?.name) return {};
  return { tenantName: runtime.tenant.name, ...(runtime.settings?.logo_url ? { logoUrl: runtime.settings.logo_url } : {}), ...(runtime.basePath ? { base: runtime.basePath } : {}) };
}

/** Writes one error answer in the representation the route and the caller call for. */
export function respondWith(ctx: Context, answer: ErrorAnswer, { as }: { as?: Representation } = {}): void {
  for (const [name, value] of Object.entries(answer.headers ?? {})) ctx.set(name, value);
  ctx.set('Cache-Control', 'no-store');
  ctx.status = answer.status;
  const requestId = (ctx.state.requestId as string | undefined) ?? undefined;
  const representation = as ?? representationFor(ctx, answer.code);
  if (representation === 'oauth') {
    ctx.type = 'application/json';
    ctx.body = { error: OAUTH_CODES[answer.code], error_description: answer.detail };
    return;
  }
  if (representation === 'html') {
    ctx.type = 'html';
    // In the reader's language: the page's own words, and a bare status title or the 500 text
    // (the details the routes give are already theirs).
    const t = stringsFor(ctx.get('accept-language'));
    const words = t.errors.page;
    const brand = { ...tenantBrand(ctx), lang: t.lang, skipLabel: t.common.skipToContent };
    const title = answer.title === STATUS_TITLES[answer.status] || answer.code === 'internal_error' ? (words.status[answer.status] ?? answer.title) : answer.title;
    const message = answer.code === 'internal_error' ? words.internal : answer.detail;
    ctx.body = OAUTH_ENDPOINT.test(ctx.path)
      ? messagePage({ ...brand, title: words.signInProblem, heading: words.somethingWrong, message, detail: fill(words.errorCode, { code: OAUTH_CODES[answer.code] ?? answer.code }, t.lang) }).value
      : messagePage({ ...brand, title, heading: answer.status === 429 ? words.tooMany : title, message, ...(requestId ? { detail: fill(words.reference, { id: requestId }, t.lang) } : {}) }).value;
    return;
  }
  ctx.type = 'application/problem+json';
  ctx.body = {
    type: `https://facet.dev/problems/${answer.code}`,
    title: answer.title,
    status: answer.status,
    detail: answer.detail,
    code: answer.code,
    ...(answer.headers?.['Retry-After'] ? { retry_after: Number(answer.headers['Retry-After']) } : {}),
    ...answer.extensions,
    ...(requestId ? { request_id: requestId } : {}),
  };
}

/** Answers an error (an exposed FacetError says what happened; anything else is a bare 500). */
export function respondError(ctx: Context, error: unknown): void {
  respondWith(ctx, answerFor(error));
}

/** A refusal a JSON step answers itself (no throw): problem+json, `extensions` as extra members. */
export function respondProblem(ctx: Context, status: number, code: string, detail: string, extensions: Record<string, unknown> = {}): void {
  respondWith(ctx, { status, code, title: STATUS_TITLES[status] ?? 'Error', detail, extensions }, { as: 'problem' });
}

/**
 * The one 429: Retry-After always, OAuth JSON on OAuth endpoints, problem+json for JSON calls,
 * and for browsers either the page the route renders itself (`page`, e.g. the form again with the
 * message) or a small page.
 */
export async function respondRateLimited(ctx: Context, retryAfterSeconds: number, { detail, page }: { detail?: string; page?: () => void | Promise<void> } = {}): Promise<void> {
  const answer = answerFor(tooManyRequests(retryAfterSeconds, detail));
  if (page && representationFor(ctx, answer.code) === 'html') {
    for (const [name, value] of Object.entries(answer.headers ?? {})) ctx.set(name, value);
    ctx.set('Cache-Control', 'no-store');
    await page();
    ctx.status = 429;
    return;
  }
  respondWith(ctx, answer);
}

/** Bad input on any tenant route: `invalid_request` (OAuth JSON on OAuth endpoints). */
export function respondInvalidRequest(ctx: Context, detail: string): void {
  respondError(ctx, new HttpError(400, 'invalid_request', 'Bad request', detail));
}

/** The database is unreachable: 503 with Retry-After (`temporarily_unavailable` on OAuth endpoints). */
export function respondUnavailable(ctx: Context, retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS): void {
  respondError(
    ctx,
    new HttpError(503, 'temporarily_unavailable', 'Temporarily unavailable', `The service is briefly unavailable. Try again in ${retryAfterSeconds} seconds.`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  );
}

export function errorHandler({ onUnexpected, onUnavailable = () => {} }: { onUnexpected: (error: unknown, ctx: Context) => void; onUnavailable?: (error: unknown, ctx: Context) => void }) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        respondError(ctx, new HttpError(404, 'not_found', 'Not found', `nothing is served at ${ctx.path}`));
      }
    } catch (error) {
      // Checked first: a step may wrap the outage in its own error (as its cause).
      if (isDatabaseUnavailable(error)) {
        onUnavailable(error, ctx);
        return respondUnavailable(ctx);
      }
      if (error instanceof FacetError && error.expose) return respondError(ctx, error);
      // PostgreSQL refusing a string (NUL, unpaired surrogate) that got past the early checks.
      if (isUnstorableInputError(error)) return respondInvalidRequest(ctx, 'The request contains a NUL character or an unpaired surrogate, which is not allowed.');
      // Koa's own client errors (ctx.throw, malformed URLs) say what is wrong.
      const { status, expose } = error as { status?: number; expose?: boolean };
      if (status && status >= 400 && status < 500 && expose) {
        return respondError(ctx, new HttpError(status, 'bad_request', 'Bad request', (error as Error).message));
      }
      onUnexpected(error, ctx);
      respondError(ctx, error);
    }
  };
}
