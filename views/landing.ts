// `/` in a browser: what this server is and where people and applications go next.
import { html } from './html.ts';
import { layout } from './layout.ts';

export function landingPage(publicUrl: string): string {
  return layout(
    { title: 'Facet' },
    html`<section class="card" data-page="landing">
<h1>Facet sign-in service</h1>
<p>This server signs people in to applications of the organisations that use it, with passkeys.</p>
<p>Each organisation has its own address. Your account page is at <code>${publicUrl}/t/&lt;organisation&gt;/account</code>; the application you use takes you to the right place when you sign in.</p>
<p class="detail">For developers: OpenID Connect discovery is at <code>${publicUrl}/t/&lt;organisation&gt;/.well-known/openid-configuration</code>.</p>
</section>`,
  ).value;
}
