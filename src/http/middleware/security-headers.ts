// The headers every HTML response carries: a strict CSP with frame-ancestors 'none', anti-framing
// and no MIME sniffing. Facet's own pages set them with a per-response script nonce (securePage);
// the middleware fills them in on any other HTML answer (error pages, the 429 page), and the
// tenant's oidc-provider sets them on its responses (oidc/provider-pages.ts).
import { randomBytes } from 'node:crypto';
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

/** The security headers of an answer without a CSP of its own, as [name, value] pairs. */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Content-Security-Policy', PAGE_CSP],
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
];

export function setSecurityHeaders(set: (name: string, value: string) => void): void {
  for (const [name, value] of SECURITY_HEADERS) set(name, value);
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

/** For a page with scripts: the strict CSP with a fresh script nonce (returned), and no-store. */
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
