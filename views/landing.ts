// `/` in a browser: what this server is and where people and applications go next.
import { html, raw, type SafeHtml } from '../ui/html.ts';
import { layout } from '../ui/components/layout.tsx';
import { fill, type Strings } from './strings/index.ts';
import { en } from './strings/en.ts';

export function landingPage(publicUrl: string, t: Strings = en): string {
  const w = t.landing;
  // The addresses are code; the sentences around them come from the catalogue (escaped first).
  const withCode = (template: string, address: SafeHtml) => raw(fill(html`${template}`.value, { address: address.value }, t.lang));
  return layout(
    { title: w.title, lang: t.lang, skipLabel: t.common.skipToContent },
    html`<section class="card" data-page="landing">
<h1>${w.heading}</h1>
<p>${w.intro}</p>
<p>${withCode(w.account, html`<code>${publicUrl}/t/&lt;${w.organisation}&gt;/account</code>`)}</p>
<p class="detail">${withCode(w.developers, html`<code>${publicUrl}/t/&lt;${w.organisation}&gt;/.well-known/openid-configuration</code>`)}</p>
</section>`,
  ).value;
}
