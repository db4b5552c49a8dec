// The reader's language choice: `?lang=de` on any GET (the switcher's links, ui/components/layout.tsx) is
// kept in a cookie for a year and removed from the query before routing, so no route or
// oidc-provider endpoint ever sees it; the rest of the query stays, and the pages' switcher links
// keep it too (ui/page-query.ts). A choice (new or from the cookie) becomes the first entry of the
// request's Accept-Language header, which is what every page negotiates on (stringsFor); without
// one, the browser's own header decides. An unknown code is ignored, never an error.
// The switcher's link on a page answering a POST points at a path that may have no GET: that
// answer (404/405) becomes a redirect to the flow's own page, now in the chosen language.
// Between the two sits the relying party's `ui_locales` (OIDC Core 3.1.2.1): an interaction's
// pages prefer it to the browser's header, but the reader's own choice still wins.
import type { Context, Next } from 'koa';
import { isLanguage, type Language } from '../../../views/strings/index.ts';
import { withPageQuery } from '../../../ui/page-query.ts';

export const LANGUAGE_COOKIE = 'facet_lang';
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;
const FLOW_PAGE = /^(\/t\/[a-z0-9-]{2,40}\/(?:interaction\/[^/]+|account))\//;

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
      ctx.state.languageChosen = true;
      const browser = ctx.get('accept-language');
      ctx.req.headers['accept-language'] = browser ? `${chosen}, ${browser}` : chosen;
    }
    // Only a request with a query needs it kept for the switcher (no store reads as ''): the token
    // endpoint, discovery and most pages go on without entering an async context.
    if (ctx.querystring) await withPageQuery(ctx.querystring, next);
    else await next();
    // A page shown in answer to a form (POST) links ?lang= to its own path, which may not answer a
    // GET: go to the page of that flow instead (the account page, or the interaction's own page).
    if (asked !== undefined && (ctx.status === 404 || ctx.status === 405)) {
      const page = FLOW_PAGE.exec(ctx.path)?.[1];
      if (page && page !== ctx.path) {
        ctx.status = 303;
        ctx.redirect(page);
        return;
      }
    }
    // Pages differ by language; JSON documents (discovery, JWKS) stay cacheable as they were.
    if (ctx.response.is('html')) {
      ctx.vary('Accept-Language');
      ctx.vary('Cookie');
    }
  };
}

/**
 * An authorization request's `ui_locales` ("de-CH en", most preferred first) put ahead of the
 * browser's Accept-Language for the rest of this request, unless the reader chose a language
 * (switcher or cookie). Tags are matched by stringsFor like any header entry; unknown ones fall
 * through to the next, so an RP asking for a language Facet lacks is not an error.
 */
export function preferUiLocales(ctx: Context, uiLocales: unknown): void {
  if (ctx.state.languageChosen || typeof uiLocales !== 'string') return;
  const tags = uiLocales.split(' ').filter((tag) => /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag)).slice(0, 10);
  if (tags.length === 0) return;
  const browser = ctx.get('accept-language');
  ctx.req.headers['accept-language'] = [...tags, ...(browser ? [browser] : [])].join(', ');
}
