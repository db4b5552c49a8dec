// The pages oidc-provider renders itself — RP-initiated logout, the device-flow user-code pages —
// in Facet's layout, strings and stylesheet, and the security headers every provider response
// carries (oidc-provider sets none of its own, except the script hash of its form_post page).
import type { KoaContextWithOIDC } from 'oidc-provider';
import { html, raw } from '../../ui/html.ts';
import { layout, messagePage } from '../../ui/components/layout.tsx';
import { fill, stringsFor } from '../../views/strings/index.ts';
import { setSecurityHeaders } from '../http/middleware/security-headers.ts';

/**
 * Set before the provider answers: oidc-provider's form_post page adds the hash of its one inline
 * script to script-src (helpers/script_src_sha.js), so the auto-submit keeps working.
 */
export async function providerSecurityHeaders(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  setSecurityHeaders((name, value) => ctx.set(name, value));
  await next();
}

/** The hidden inputs of a form oidc-provider built (action, xsrf, user_code …), re-emitted. */
function formParts(form: string): { action: string; hidden: Array<[string, string]> } {
  const action = /action="([^"]*)"/.exec(form)?.[1] ?? '';
  const hidden = [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)].map((m) => [m[1]!, m[2]!] as [string, string]);
  return { action, hidden };
}

// oidc-provider already HTML-escaped these values in its form.
const hiddenInputs = (hidden: Array<[string, string]>) => raw(hidden.map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`).join(''));

export function createProviderPages(tenantName: string) {
  const page = (ctx: KoaContextWithOIDC, title: string, body: ReturnType<typeof html>) => {
    ctx.type = 'html';
    ctx.body = layout({ title, tenantName, lang: stringsFor(ctx.get('accept-language')).lang }, body).value;
  };

  return {
    logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
      const t = stringsFor(ctx.get('accept-language')).providerPages;
      const { action, hidden } = formParts(form);
      page(
        ctx,
        t.logoutTitle,
        html`<section class="card"><h1>${t.logoutHeading}</h1><p>${t.logoutQuestion}</p>
<form id="op.logoutForm" method="post" action="${action}" class="actions">${hiddenInputs(hidden)}
<button type="submit" name="logout" value="yes" autofocus>${t.logoutYes}</button>
<button type="submit" class="secondary">${t.logoutNo}</button>
</form></section>`,
      );
    },
    postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
      const { providerPages: t, lang } = stringsFor(ctx.get('accept-language'));
      ctx.type = 'html';
      ctx.body = messagePage({ title: t.loggedOutTitle, tenantName, lang, heading: t.loggedOutHeading, message: t.loggedOutMessage }).value;
    },
    userCodeInputSource: async (ctx: KoaContextWithOIDC, form: string, _out: unknown, err?: { name?: string; userCode?: unknown }) => {
      const t = stringsFor(ctx.get('accept-language')).providerPages;
      const { action, hidden } = formParts(form);
      // verification_uri_complete: oidc-provider pre-fills the code (already HTML-escaped there).
      const prefilled = /<input\s+value="([^"]*)"[^>]*name="user_code"/.exec(form)?.[1];
      const error = !err ? undefined : err.userCode || err.name === 'NoCodeError' ? t.deviceCodeWrong : err.name === 'AbortedError' ? t.deviceAborted : t.deviceError;
      page(
        ctx,
        t.deviceTitle,
        html`<section class="card"><h1>${t.deviceHeading}</h1><p>${t.deviceIntro}</p>
<form id="op.deviceInputForm" method="post" action="${action}" novalidate>${hiddenInputs(hidden.filter(([name]) => name === 'xsrf'))}
<div class="field"><label for="user_code">${t.deviceCodeLabel}</label>
<input id="user_code" name="user_code" type="text"${prefilled ? raw(` value="${prefilled}"`) : ''} autocomplete="off" autocapitalize="characters" spellcheck="false" autofocus${error ? html` aria-invalid="true" aria-describedby="user_code-error"` : ''}>
${error ? html`<p class="error" id="user_code-error" role="alert">${error}</p>` : ''}</div>
<button type="submit">${t.continue}</button>
</form></section>`,
      );
    },
    userCodeConfirmSource: async (ctx: KoaContextWithOIDC, form: string, client: { clientId: string; clientName?: string }, _deviceInfo: unknown, userCode: string) => {
      const t = stringsFor(ctx.get('accept-language')).providerPages;
      const { action, hidden } = formParts(form);
      page(
        ctx,
        t.deviceConfirmTitle,
        html`<section class="card"><h1>${t.deviceConfirmHeading}</h1>
<p>${fill(t.deviceConfirmQuestion, { client: client.clientName ?? client.clientId })}</p>
<p class="code" aria-label="${t.deviceCodeLabel}"><strong>${userCode}</strong></p>
<p class="hint">${t.deviceConfirmHint}</p>
<form id="op.deviceConfirmForm" method="post" action="${action}" class="actions">${hiddenInputs(hidden)}
<button type="submit" autofocus>${t.continue}</button>
<button type="submit" name="abort" value="yes" class="secondary">${t.deviceAbort}</button>
</form></section>`,
      );
    },
    successSource: async (ctx: KoaContextWithOIDC) => {
      const { providerPages: t, lang } = stringsFor(ctx.get('accept-language'));
      const client = ctx.oidc.client;
      ctx.type = 'html';
      ctx.body = messagePage({
        title: t.deviceDoneTitle,
        tenantName,
        lang,
        heading: t.deviceDoneHeading,
        message: fill(t.deviceDoneMessage, { client: client?.clientName ?? client?.clientId ?? '' }),
      }).value;
    },
  };
}
