// The sign-in, sign-up, passkey, recovery and consent pages. Text comes from views/strings;
// scripts find their endpoints in data- attributes (no inline script, CSP-friendly).
import { html, type SafeHtml } from '../ui/html.ts';
import { layout } from '../ui/components/layout.tsx';
import { cancelForm, csrfField, field, statusRegion, webauthnMessagesJson } from '../ui/components/forms.tsx';
import { fill, type Strings } from './strings/index.ts';

export interface PageContext {
  t: Strings;
  tenantName: string;
  logoUrl?: string | undefined;
  nonce: string;
  csrf: string;
  /** URL prefix of the flow's endpoints: /t/<slug>/interaction/<uid> or /t/<slug>/account/sign-in. */
  base: string;
}

const SCRIPT = '/assets/build/passkey.js';

function page(ctx: PageContext, title: string, body: SafeHtml, withScript: boolean | string[] = false): string {
  const scripts = Array.isArray(withScript) ? withScript : withScript ? [SCRIPT] : [];
  return layout(
    { title, tenantName: ctx.tenantName, ...(ctx.logoUrl ? { logoUrl: ctx.logoUrl } : {}), nonce: ctx.nonce, scripts, lang: ctx.t.lang, base: ctx.base, skipLabel: ctx.t.common.skipToContent },
    body,
  ).value;
}

export function signInPage(
  ctx: PageContext,
  { clientName, username, error, notice, signUpAllowed }: { clientName?: string | undefined; username?: string | undefined; error?: string | undefined; notice?: string | undefined; signUpAllowed: boolean },
): string {
  const { t } = ctx;
  return page(
    ctx,
    t.signIn.title,
    html`<section class="card" data-page="sign-in" data-options-url="${ctx.base}/passkey/options" data-verify-url="${ctx.base}/passkey/verify" data-csrf="${ctx.csrf}"
  data-msg-cancelled="${t.errors.browserCancelled}" data-msg-working="${t.common.working}" data-msg-generic="${t.errors.generic}" data-msg-username="${t.signIn.usernameRequired}" data-messages="${webauthnMessagesJson(t)}">
<h1>${fill(t.signIn.heading, { tenant: ctx.tenantName })}</h1>
${clientName ? html`<p class="detail">${fill(t.signIn.forClient, { client: clientName })}</p>` : ''}
${notice ? html`<p class="notice" role="status" id="notice">${notice}</p>` : ''}
${statusRegion(error)}
<button type="button" id="passkey-button">${t.signIn.passkeyButton}</button>
<form method="post" action="${ctx.base}/identify" id="username-form" novalidate>
${csrfField(ctx.csrf)}
${field({ id: 'username', label: t.signIn.usernameLabel, value: username, autocomplete: 'username webauthn', hint: t.signIn.usernameHint })}
<button type="submit" class="secondary">${t.signIn.continueWithUsername}</button>
</form>
<p class="hint" id="other-device">${t.signIn.otherDevice}</p>
<noscript><p class="error">${t.common.needsJs}</p></noscript>
<nav class="links">
${signUpAllowed ? html`<p>${t.signIn.noAccount} <a href="${ctx.base}/signup">${t.signIn.signUpLink}</a></p>` : ''}
<p><a href="${ctx.base}/recovery">${t.signIn.recoveryLink}</a></p>
</nav>
${clientName ? cancelForm({ action: `${ctx.base}/cancel`, csrf: ctx.csrf, label: fill(t.signIn.cancel, { client: clientName }) }) : ''}
</section>`,
    true,
  );
}

export interface SignUpValues {
  username?: string;
  email?: string;
  displayName?: string;
  invite?: string;
}

export function signUpPage(
  ctx: PageContext,
  { values = {}, errors = {}, inviteField, formError }: { values?: SignUpValues; errors?: Partial<Record<keyof SignUpValues, string>>; inviteField: boolean; formError?: string | undefined },
): string {
  const { t } = ctx;
  // Focus goes to the first field in error (else the first field).
  const focus = (['username', 'email', 'displayName', 'invite'] as const).find((key) => errors[key]) ?? 'username';
  return page(
    ctx,
    t.signUp.title,
    html`<section class="card">
<h1>${fill(t.signUp.heading, { tenant: ctx.tenantName })}</h1>
${statusRegion(formError)}
<form method="post" action="${ctx.base}/signup" novalidate>
${csrfField(ctx.csrf)}
${field({ id: 'username', label: t.signUp.usernameLabel, value: values.username, autocomplete: 'username', hint: t.signUp.usernameHint, error: errors.username, required: true, autofocus: focus === 'username' })}
${field({ id: 'email', label: t.signUp.emailLabel, type: 'email', value: values.email, autocomplete: 'email', error: errors.email, required: true, autofocus: focus === 'email' })}
${field({ id: 'displayName', label: t.signUp.displayNameLabel, value: values.displayName, autocomplete: 'name', hint: t.signUp.displayNameHint, error: errors.displayName, autofocus: focus === 'displayName' })}
${inviteField ? field({ id: 'invite', label: t.signUp.inviteLabel, value: values.invite, hint: t.signUp.inviteHint, error: errors.invite, required: true, autofocus: focus === 'invite' }) : values.invite ? html`<input type="hidden" name="invite" value="${values.invite}">${errors.invite ? html`<p class="error" role="alert">${errors.invite}</p>` : ''}` : ''}
<button type="submit">${t.signUp.submit}</button>
</form>
<nav class="links"><p><a href="${ctx.base}">${t.signUp.haveAccount}</a></p></nav>
</section>`,
  );
}

export function createPasskeyPage(ctx: PageContext, { mode }: { mode: 'signup' | 'add' }): string {
  const { t } = ctx;
  return page(
    ctx,
    t.createPasskey.title,
    html`<section class="card" data-page="register" data-options-url="${ctx.base}/register/options" data-verify-url="${ctx.base}/register/verify" data-csrf="${ctx.csrf}"
  data-msg-cancelled="${t.errors.browserCancelled}" data-msg-working="${t.common.working}" data-msg-generic="${t.errors.generic}" data-messages="${webauthnMessagesJson(t)}">
<h1>${mode === 'signup' ? t.createPasskey.heading : t.createPasskey.addHeading}</h1>
<p>${mode === 'signup' ? t.createPasskey.intro : t.createPasskey.addIntro}</p>
${statusRegion()}
<button type="button" id="create-passkey">${t.createPasskey.button}</button>
<p class="hint" id="other-device">${t.createPasskey.otherDevice}</p>
<noscript><p class="error">${t.common.needsJs}</p></noscript>
</section>`,
    true,
  );
}

export function recoveryCodesPage(ctx: PageContext, { codes, doneHref }: { codes: string[]; doneHref?: string }): string {
  const { t } = ctx;
  return page(
    ctx,
    t.recoveryCodes.title,
    html`<section class="card">
<h1>${t.recoveryCodes.heading}</h1>
<p>${t.recoveryCodes.intro}</p>
<ol class="codes" id="recovery-codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
<div class="actions code-actions" data-page="recovery-codes" data-msg-copied="${t.recoveryCodes.copied}" data-msg-copy-failed="${t.recoveryCodes.copyFailed}">
<a class="button secondary" id="codes-download" download="${ctx.tenantName.replace(/[^\w.-]+/g, '-').toLowerCase()}-recovery-codes.txt" href="data:text/plain;charset=utf-8,${encodeURIComponent(
      `${fill(t.recoveryCodes.fileHeader, { tenant: ctx.tenantName, date: new Date().toISOString().slice(0, 10) })}\n\n${codes.join('\n')}\n`,
    )}">${t.recoveryCodes.download}</a>
<button type="button" class="secondary" id="codes-copy" hidden>${t.recoveryCodes.copy}</button>
<button type="button" class="secondary" id="codes-print" hidden>${t.recoveryCodes.print}</button>
<p class="status" id="codes-status" role="status"></p>
</div>
${doneHref
  ? html`<p><a class="button" href="${doneHref}">${t.recoveryCodes.confirm}</a></p>`
  : html`<form method="post" action="${ctx.base}/continue">
${csrfField(ctx.csrf)}
<button type="submit">${t.recoveryCodes.confirm}</button>
</form>`}
</section>`,
    ['/assets/build/recovery-codes.js'],
  );
}

export function requirementsPage(ctx: PageContext, { clientName, description, newAccount = true }: { clientName: string; description: string; newAccount?: boolean }): string {
  const { t } = ctx;
  const accountBase = ctx.base.replace(/\/interaction\/[^/]+$/, '/account');
  return page(
    ctx,
    t.requirements.title,
    html`<section class="card">
<h1>${fill(newAccount ? t.requirements.heading : t.requirements.signInHeading, { client: clientName })}</h1>
<p>${fill(newAccount ? t.requirements.intro : t.requirements.signInIntro, { client: clientName })}</p>
<p class="detail" id="requirement">${description}</p>
<p>${fill(t.requirements.next, { client: clientName })}</p>
<form method="post" action="${ctx.base}/requirements">
${csrfField(ctx.csrf)}
<button type="submit">${fill(t.requirements.back, { client: clientName })}</button>
</form>
<nav class="links"><p><a href="${accountBase}">${t.requirements.accountLink}</a></p></nav>
</section>`,
  );
}

export function recoveryPage(ctx: PageContext, { username, error }: { username?: string | undefined; error?: string | undefined }): string {
  const { t } = ctx;
  return page(
    ctx,
    t.recovery.title,
    html`<section class="card">
<h1>${t.recovery.heading}</h1>
<p>${t.recovery.intro}</p>
<form method="post" action="${ctx.base}/recovery" novalidate>
${csrfField(ctx.csrf)}
${field({ id: 'username', label: t.recovery.usernameLabel, value: username, autocomplete: 'username', required: true, autofocus: !error })}
${field({ id: 'code', label: t.recovery.codeLabel, autocomplete: 'one-time-code', hint: t.recovery.codeHint, error, required: true, autofocus: Boolean(error) })}
<button type="submit">${t.recovery.submit}</button>
</form>
<nav class="links"><p><a href="${ctx.base}">${t.common.back}</a></p></nav>
</section>`,
  );
}

export function consentPage(
  ctx: PageContext,
  {
    clientName,
    userName,
    scopes,
    claims,
    resources,
    again = false,
  }: { clientName: string; userName: string; scopes: string[]; claims: string[]; resources: Array<{ indicator: string; scopes: string[] }>; again?: boolean },
): string {
  const { t } = ctx;
  const describe = (scope: string) => t.consent.scopes[scope] ?? fill(t.consent.otherScope, { scope });
  return page(
    ctx,
    t.consent.title,
    html`<section class="card">
<h1>${fill(t.consent.heading, { client: clientName })}</h1>
<p class="detail">${fill(t.consent.signedInAs, { user: userName })}</p>
<p>${again ? t.consent.scopesAgain : t.consent.scopesIntro}</p>
<ul class="scopes" id="consent-scopes">${scopes.map((s) => html`<li data-scope="${s}">${describe(s)}</li>`)}${resources.flatMap((r) =>
      r.scopes.map((s) => html`<li data-scope="${s}">${describe(s)} <span class="detail">(${r.indicator})</span></li>`),
    )}</ul>
${claims.length > 0 ? html`<p>${t.consent.claimsIntro}</p><ul class="claims" id="consent-claims">${claims.map((c) => html`<li><code>${c}</code></li>`)}</ul>` : ''}
<form method="post" action="${ctx.base}/consent" class="actions">
${csrfField(ctx.csrf)}
<button type="submit" name="decision" value="allow" autofocus>${t.consent.allow}</button>
<button type="submit" name="decision" value="deny" class="secondary">${t.consent.deny}</button>
</form>
</section>`,
  );
}
