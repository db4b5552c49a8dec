// Request plumbing for Facet's own pages: the request facts every audit event carries and the HTML
// answer. The CSP nonce, CSRF tokens and the body reader are the HTTP edge's middleware
// (src/http/middleware/), re-exported here for the pages that use them.
import type { Context } from 'koa';

export { securePage } from '../http/middleware/security-headers.ts';
export { checkCsrf, csrfToken } from '../http/middleware/csrf.ts';
export { readBody } from '../http/middleware/body.ts';

export function requestFacts(ctx: Context) {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || null, requestId: (ctx.state.requestId as string | undefined) ?? null };
}

export function htmlResponse(ctx: Context, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}
