// The page shell shared by every browser page: tenant name and logo, our stylesheet, and script
// tags carrying the per-response CSP nonce.
import { html, type SafeHtml } from './html.ts';
import { LANGUAGES, stringsOf } from './strings/index.ts';

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

export function layout({ title, tenantName, logoUrl, nonce, scripts = [], lang, base, skipLabel = 'Skip to content' }: LayoutOptions, body: SafeHtml): SafeHtml {
  const brand = brandStylesheet(base);
  const switcher = lang ? languageSwitcher(lang) : '';
  lang ??= 'en';
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}${tenantName ? ` · ${tenantName}` : ''}</title>
<link rel="stylesheet" href="/assets/facet.css">
${brand ? html`<link rel="stylesheet" href="${brand}">` : ''}
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip-link" href="#main">${skipLabel}</a>
<header class="brand">${logoUrl ? html`<img src="${logoUrl}" alt="" class="logo">` : ''}<span>${tenantName ?? 'Facet'}</span></header>
<main id="main">${body}</main>
${switcher}
${scripts.map((src) => html`<script type="module" src="${src}" nonce="${nonce ?? ''}"></script>`)}
</body>
</html>`;
}

export function messagePage(options: LayoutOptions & { heading: string; message: string; detail?: string }): SafeHtml {
  return layout(
    options,
    html`<section class="card" role="alert"><h1>${options.heading}</h1><p>${options.message}</p>${
      options.detail ? html`<p class="detail">${options.detail}</p>` : ''
    }</section>`,
  );
}

/**
 * Links to this same page in each other language: ?lang=xx is taken by the language middleware
 * (src/http/middleware/language.ts), remembered in a cookie, and removed before routing. Plain
 * links, so the switcher works without JavaScript and needs no CSRF token (it changes nothing but
 * the reader's own display preference).
 */
function languageSwitcher(current: string): SafeHtml {
  const label = stringsOf(current).common.language;
  return html`<nav class="languages" aria-label="${label}"><ul>${Object.entries(LANGUAGES).map(([code, { name }]) =>
    code === current
      ? html`<li><span lang="${code}" aria-current="true">${name}</span></li>`
      : html`<li><a href="?lang=${code}" lang="${code}" hreflang="${code}">${name}</a></li>`,
  )}</ul></nav>`;
}
