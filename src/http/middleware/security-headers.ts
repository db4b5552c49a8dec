// The headers every HTML response carries: a strict CSP with frame-ancestors 'none', anti-framing
// and no MIME sniffing. Facet's own pages set them with a per-response script nonce
// (interaction/http.ts securePage); this fills them in on any other HTML answer (error pages, the
// 429 page), and the tenant's oidc-provider sets them on its responses (oidc/provider-pages.ts).
import type { Context, Next } from 'koa';

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function setSecurityHeaders(set: (name: string, value: string) => void): void {
  set('Content-Security-Policy', PAGE_CSP);
  set('X-Frame-Options', 'DENY');
  set('X-Content-Type-Options', 'nosniff');
  set('Referrer-Policy', 'no-referrer');
}

/** Koa middleware: an HTML answer without a CSP of its own gets the defaults above. */
export async function htmlSecurityHeaders(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } finally {
    if (ctx.respond !== false && ctx.response.is('html') && !ctx.response.get('Content-Security-Policy')) {
      setSecurityHeaders((name, value) => ctx.set(name, value));
    }
  }
}
