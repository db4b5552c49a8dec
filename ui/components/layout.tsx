// The page shell shared by every browser page: tenant name and logo, our stylesheet, the skip link,
// the language switcher and script tags carrying the per-response CSP nonce. Rendered on the server
// (ui/render.ts); the pages work without JavaScript, the scripts only improve them.
import type { ComponentChildren } from 'preact';
import { raw, type SafeHtml } from '../html.ts';
import { renderDocument } from '../render.ts';
import { LANGUAGES, stringsOf } from '../../views/strings/index.ts';
import { currentPageQuery } from '../page-query.ts';
import { languageHref } from './language-link.ts';

export interface LayoutOptions {
  title: string;
  tenantName?: string;
  logoUrl?: string;
  nonce?: string;
  scripts?: string[];
  /** The page's language (views/strings); a page that gives one also gets the language switcher. */
  lang?: string;
  /** A path under the tenant (/t/<slug>/…): the page then links the tenant's colours, /t/<slug>/brand.css. */
  base?: string | undefined;
  /** The skip link's text (views/strings common.skipToContent). */
  skipLabel?: string;
}

/** The tenant's stylesheet for a path under it, or undefined outside a tenant. */
export function brandStylesheet(base: string | undefined): string | undefined {
  const slug = /^\/t\/([a-z0-9-]{2,40})(?:\/|$)/.exec(base ?? '')?.[1];
  return slug ? `/t/${slug}/brand.css` : undefined;
}

/**
 * The document. The page's content is `children`, or `bodyHtml` for a page whose content is still
 * an escaped template (ui/html.ts) — it goes in as markup, already escaped by that template.
 */
export function Layout({ title, tenantName, logoUrl, nonce, scripts = [], lang, base, skipLabel = 'Skip to content', children, bodyHtml }: LayoutOptions & { children?: ComponentChildren; bodyHtml?: string }) {
  const brand = brandStylesheet(base);
  return (
    <html lang={lang ?? 'en'}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title}${tenantName ? ` · ${tenantName}` : ''}`}</title>
        <link rel="stylesheet" href="/assets/facet.css" />
        {brand ? <link rel="stylesheet" href={brand} /> : null}
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <a class="skip-link" href="#main">{skipLabel}</a>
        <header class="brand">
          {logoUrl ? <img src={logoUrl} alt="" class="logo" /> : null}
          <span>{tenantName ?? 'Facet'}</span>
        </header>
        {bodyHtml !== undefined ? <main id="main" dangerouslySetInnerHTML={{ __html: bodyHtml }} /> : <main id="main">{children}</main>}
        {lang ? <LanguageSwitcher current={lang} /> : null}
        {scripts.map((src) => (
          <script type="module" src={src} nonce={nonce ?? ''}></script>
        ))}
      </body>
    </html>
  );
}

/** A page that only says something: a heading, a sentence, and a detail such as a reference. */
export function Message({ heading, message, detail }: { heading: string; message: string; detail?: string | undefined }) {
  return (
    <section class="card" role="alert">
      <h1>{heading}</h1>
      <p>{message}</p>
      {detail ? <p class="detail">{detail}</p> : null}
    </section>
  );
}

/**
 * Links to this same page in each other language: ?lang=xx is taken by the language middleware
 * (src/http/middleware/language.ts), remembered in a cookie, and removed before routing; the page's
 * other query parameters are kept (`query`, by default the request's). Plain links, so the switcher
 * works without JavaScript and needs no CSRF token (it changes nothing but the reader's own display
 * preference).
 */
export function LanguageSwitcher({ current, query = currentPageQuery() }: { current: string; query?: string }) {
  const label = stringsOf(current).common.language;
  return (
    <nav class="languages" aria-label={label}>
      <ul>
        {Object.entries(LANGUAGES).map(([code, { name }]) => (
          <li>{code === current ? <span lang={code} aria-current="true">{name}</span> : <a href={languageHref(query, code)} lang={code} hreflang={code}>{name}</a>}</li>
        ))}
      </ul>
    </nav>
  );
}

/** The shell around content that is still an escaped template (pages not yet written as components). */
export function layout(options: LayoutOptions, body: SafeHtml): SafeHtml {
  return raw(renderDocument(<Layout {...options} bodyHtml={body.value} />));
}

export function messagePage(options: LayoutOptions & { heading: string; message: string; detail?: string }): SafeHtml {
  const { heading, message, detail, ...shell } = options;
  return raw(renderDocument(<Layout {...shell}><Message heading={heading} message={message} detail={detail} /></Layout>));
}

/**
 * The document a browser app (the console, the operator console) starts from: our stylesheets, one
 * element the app mounts on with its settings in data- attributes, what to do without JavaScript,
 * and the app's bundle under the response's CSP nonce. `lang` is the language the server negotiated
 * (negotiateLanguage); the app reads it back from <html lang> and speaks it.
 */
export function appShellPage({ title, stylesheets, mount, noscript, script, nonce, lang = 'en' }: { title: string; stylesheets: string[]; mount: { id: string; [data: `data-${string}`]: string }; noscript: string; script: string; nonce: string; lang?: string }): string {
  return renderDocument(
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        {stylesheets.map((href) => <link rel="stylesheet" href={href} />)}
      </head>
      <body class="console">
        <div {...mount}>
          <noscript><p class="card">{noscript}</p></noscript>
        </div>
        <script type="module" src={script} nonce={nonce}></script>
      </body>
    </html>,
  );
}
