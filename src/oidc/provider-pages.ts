// The pages oidc-provider renders itself — RP-initiated logout, the device-flow user-code pages —
// in Facet's layout, strings and stylesheet (ui/pages/provider.tsx), and the security headers every provider response
// carries (oidc-provider sets none of its own, except the script hash of its form_post page).
import type { KoaContextWithOIDC } from 'oidc-provider';
import { providerLogoutPage, providerMessagePage, providerUserCodeConfirmPage, providerUserCodePage, type ProviderForm } from '../../ui/pages/provider.tsx';
import { fill, stringsFor } from '../../views/strings/index.ts';
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from '../http/middleware/security-headers.ts';

/**
 * Set before the provider answers: oidc-provider's form_post page adds the hash of its one inline
 * script to script-src (helpers/script_src_sha.js), so the auto-submit keeps working.
 */
export function setProviderSecurityHeaders(res: ServerResponse): void {
  // Straight on the response: Koa's ctx.set adds nothing for constant string values.
  for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
/** oidc-provider HTML-escaped the values in its form (helpers/html_safe.js); the page escapes them again. */
const unescape = (value: string) => value.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);

/** The action and hidden inputs of a form oidc-provider built (action, xsrf, user_code …), as text. */
function formParts(form: string): ProviderForm {
  const action = unescape(/action="([^"]*)"/.exec(form)?.[1] ?? '');
  const hidden = [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)].map((m) => [unescape(m[1]!), unescape(m[2]!)] as [string, string]);
  return { action, hidden };
}

export function createProviderPages(tenantName: string) {
  const shellOf = (ctx: KoaContextWithOIDC) => {
    const strings = stringsFor(ctx.get('accept-language'));
    return { shell: { tenantName, lang: strings.lang }, t: strings.providerPages };
  };
  const send = (ctx: KoaContextWithOIDC, page: string) => {
    ctx.type = 'html';
    ctx.body = page;
  };

  return {
    logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
      const { shell, t } = shellOf(ctx);
      send(ctx, providerLogoutPage(shell, t, formParts(form)));
    },
    postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
      const { shell, t } = shellOf(ctx);
      send(ctx, providerMessagePage(shell, { title: t.loggedOutTitle, heading: t.loggedOutHeading, message: t.loggedOutMessage }));
    },
    userCodeInputSource: async (ctx: KoaContextWithOIDC, form: string, _out: unknown, err?: { name?: string; userCode?: unknown }) => {
      const { shell, t } = shellOf(ctx);
      const { action, hidden } = formParts(form);
      // verification_uri_complete: oidc-provider pre-fills the code (HTML-escaped there).
      const prefilled = /<input\s+value="([^"]*)"[^>]*name="user_code"/.exec(form)?.[1];
      const error = !err ? undefined : err.userCode || err.name === 'NoCodeError' ? t.deviceCodeWrong : err.name === 'AbortedError' ? t.deviceAborted : t.deviceError;
      send(ctx, providerUserCodePage(shell, t, { action, hidden: hidden.filter(([name]) => name === 'xsrf') }, { prefilled: prefilled ? unescape(prefilled) : undefined, error }));
    },
    userCodeConfirmSource: async (ctx: KoaContextWithOIDC, form: string, client: { clientId: string; clientName?: string }, _deviceInfo: unknown, userCode: string) => {
      const { shell, t } = shellOf(ctx);
      send(ctx, providerUserCodeConfirmPage(shell, t, formParts(form), { clientName: client.clientName ?? client.clientId, userCode }));
    },
    successSource: async (ctx: KoaContextWithOIDC) => {
      const { shell, t } = shellOf(ctx);
      const client = ctx.oidc.client;
      send(ctx, providerMessagePage(shell, { title: t.deviceDoneTitle, heading: t.deviceDoneHeading, message: fill(t.deviceDoneMessage, { client: client?.clientName ?? client?.clientId ?? '' }) }));
    },
  };
}
