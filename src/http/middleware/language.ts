// The reader's language choice: `?lang=de` on any GET (the switcher's links, views/layout.ts) is
// kept in a cookie for a year and removed from the query before routing, so no route or
// oidc-provider endpoint ever sees it. A choice (new or from the cookie) becomes the first entry of
// the request's Accept-Language header, which is what every page negotiates on (stringsFor); without
// one, the browser's own header decides. An unknown code is ignored, never an error.
import type { Context, Next } from 'koa';
import { isLanguage, type Language } from '../../../views/strings/index.ts';

export const LANGUAGE_COOKIE = 'facet_lang';
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

export function languagePreference() {
  return async function language(ctx: Context, next: Next) {
    if (ctx.path.startsWith('/assets/')) return next();
    let chosen: Language | undefined;
    const asked = ctx.method === 'GET' || ctx.method === 'HEAD' ? ctx.query.lang : undefined;
    if (asked !== undefined) {
      const params = new URLSearchParams(ctx.querystring);
      params.delete('lang');
      ctx.querystring = params.toString();
      if (isLanguage(asked)) {
        chosen = asked;
        ctx.cookies.set(LANGUAGE_COOKIE, asked, { maxAge: ONE_YEAR_MS, httpOnly: true, sameSite: 'lax', secure: ctx.secure, signed: false, overwrite: true });
      }
    }
    if (!chosen) {
      const remembered = ctx.cookies.get(LANGUAGE_COOKIE, { signed: false });
      if (isLanguage(remembered)) chosen = remembered;
    }
    if (chosen) {
      const browser = ctx.get('accept-language');
      ctx.req.headers['accept-language'] = browser ? `${chosen}, ${browser}` : chosen;
    }
    await next();
    // Pages differ by language; JSON documents (discovery, JWKS) stay cacheable as they were.
    if (ctx.response.is('html')) {
      ctx.vary('Accept-Language');
      ctx.vary('Cookie');
    }
  };
}
