// The page shell shared by every browser page: tenant name and logo, our stylesheet, and script
// tags carrying the per-response CSP nonce.
import { html, type SafeHtml } from './html.ts';

export interface LayoutOptions {
  title: string;
  tenantName?: string;
  logoUrl?: string;
  nonce?: string;
  scripts?: string[];
  lang?: string;
}

export function layout({ title, tenantName, logoUrl, nonce, scripts = [], lang = 'en' }: LayoutOptions, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}${tenantName ? ` · ${tenantName}` : ''}</title>
<link rel="stylesheet" href="/assets/facet.css">
</head>
<body>
<header class="brand">${logoUrl ? html`<img src="${logoUrl}" alt="" class="logo">` : ''}<span>${tenantName ?? 'Facet'}</span></header>
<main id="main">${body}</main>
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
