// Step-up pages (the "stronger sign-in" intro, the app-code and NFC-card prompts) and the account
// page's authenticator-app and NFC-card sections with their enrolment pages. Every form works
// without JavaScript; the NFC page's script only adds Web NFC scanning where the browser has it.
import { html, raw, type SafeHtml } from '../ui/html.ts';
import { layout } from '../ui/components/layout.tsx';
import { cancelForm, csrfField, field, statusRegion } from '../ui/components/forms.tsx';
import { fill, type Strings } from './strings/index.ts';
import type { PageContext } from '../ui/pages/interaction.tsx';

function page(ctx: PageContext, title: string, body: SafeHtml, scripts: string[] = []): string {
  return layout({ title, tenantName: ctx.tenantName, ...(ctx.logoUrl ? { logoUrl: ctx.logoUrl } : {}), nonce: ctx.nonce, scripts, lang: ctx.t.lang, base: ctx.base, skipLabel: ctx.t.common.skipToContent }, body).value;
}

const factorName = (t: Strings, factor: string) => t.stepUp.factorNames[factor] ?? factor;

export function stepUpIntroPage(ctx: PageContext, { clientName, level, missing, next, others = [] }: { clientName: string; level: string; missing: string[]; next: string; others?: string[] }): string {
  const { t } = ctx;
  return page(
    ctx,
    t.stepUp.title,
    html`<section class="card" data-page="step-up">
<h1>${fill(t.stepUp.heading, { client: clientName })}</h1>
<p>${fill(t.stepUp.target, { level })}</p>
<p>${t.stepUp.stillNeeded}</p>
<ul id="missing-factors">${missing.map((f) => html`<li data-factor="${f}">${factorName(t, f)}</li>`)}</ul>
<a class="button" id="step-up-continue" href="${next}">${t.stepUp.continue}</a>
${otherWays(ctx, others)}
${backToApp(ctx, clientName)}
</section>`,
  );
}

/** "Try another method": links to the other factors that would also do, under a factor's form. */
function otherWays(ctx: PageContext, others: string[]): SafeHtml | string {
  if (others.length === 0) return '';
  return html`<nav class="links" aria-labelledby="other-ways-heading" id="other-ways"><h2 id="other-ways-heading" class="small">${ctx.t.stepUp.tryAnother}</h2>${others.map(
    (f) => html`<p><a href="${ctx.base}/stepup/${f}" data-factor="${f}">${factorName(ctx.t, f)}</a></p>`,
  )}</nav>`;
}

/** "Cancel and go back to the application" (access_denied at the client). */
function backToApp(ctx: PageContext, clientName: string | undefined): SafeHtml | string {
  if (!clientName) return '';
  return cancelForm({ action: `${ctx.base}/cancel`, csrf: ctx.csrf, label: fill(ctx.t.stepUp.cancel, { client: clientName }) });
}

export function otpStepUpPage(
  ctx: PageContext,
  { error, formError, others = [], clientName }: { error?: string | undefined; formError?: string | SafeHtml | undefined; others?: string[]; clientName?: string | undefined },
): string {
  const { t } = ctx;
  return page(
    ctx,
    t.stepUp.otp.title,
    html`<section class="card" data-page="step-up-otp">
<h1>${t.stepUp.otp.heading}</h1>
<p>${fill(t.stepUp.otp.intro, { tenant: ctx.tenantName })}</p>
${statusRegion(formError)}
<form method="post" action="${ctx.base}/stepup/otp" novalidate>
${csrfField(ctx.csrf)}
${field({ id: 'code', label: t.stepUp.otp.codeLabel, hint: t.stepUp.otp.codeHint, error, autocomplete: 'one-time-code', inputmode: 'numeric', required: true, autofocus: true })}
<button type="submit">${t.stepUp.otp.submit}</button>
</form>
${otherWays(ctx, others)}
${backToApp(ctx, clientName)}
</section>`,
    ['/assets/build/local-time.js'],
  );
}

export function nfcStepUpPage(
  ctx: PageContext,
  { error, formError, value, others = [], clientName }: { error?: string | undefined; formError?: string | SafeHtml | undefined; value?: string | undefined; others?: string[]; clientName?: string | undefined },
): string {
  const { t } = ctx;
  return page(
    ctx,
    t.stepUp.nfc.title,
    html`<section class="card" data-page="step-up-nfc" data-msg-scan="${t.stepUp.nfc.scanButton}" data-msg-scanning="${t.stepUp.nfc.scanning}" data-msg-failed="${t.stepUp.nfc.scanFailed}">
<h1>${t.stepUp.nfc.heading}</h1>
<p>${t.stepUp.nfc.intro}</p>
${statusRegion(formError)}
<form method="post" action="${ctx.base}/stepup/nfc" id="nfc-form" novalidate>
${csrfField(ctx.csrf)}
${field({ id: 'tap', label: t.stepUp.nfc.tapLabel, hint: t.stepUp.nfc.tapHint, error, value, type: 'url', autocomplete: 'off', required: true })}
<button type="submit">${t.stepUp.nfc.submit}</button>
</form>
${otherWays(ctx, others)}
${backToApp(ctx, clientName)}
</section>`,
    ['/assets/build/step-up-nfc.js', '/assets/build/local-time.js'],
  );
}

// ——— Account page ———

export interface AccountFactorsData {
  t: Strings;
  csrf: string;
  /** /t/<slug>/account */
  base: string;
  otp: { createdAt: Date } | null;
  cards: Array<{ id: string; name: string; uid: string; createdAt: Date }>;
  notice?: string | undefined;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** The authenticator-app and NFC-card cards of the account page's Security section. */
export function accountFactorsSections(d: AccountFactorsData): SafeHtml {
  const { t } = d;
  return html`<div class="card" role="group" aria-labelledby="otp-heading" id="otp-section">
<h3 id="otp-heading">${t.factors.otpHeading}</h3>
${d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : ''}
${d.otp
  ? html`<p>${fill(t.factors.otpOn, { date: day(d.otp.createdAt) })}</p>
<a class="button secondary" href="${d.base}/totp/remove">${t.factors.otpRemove}</a>`
  : html`<p>${t.factors.otpOff}</p>
<form method="post" action="${d.base}/totp/start">${csrfField(d.csrf)}<button type="submit">${t.factors.otpAdd}</button></form>`}
</div>
<div class="card" role="group" aria-labelledby="nfc-heading" id="nfc-section">
<h3 id="nfc-heading">${t.factors.nfcHeading}</h3>
${d.cards.length === 0
  ? html`<p>${t.factors.nfcNone}</p>`
  : html`<ul class="passkeys" id="nfc-cards">${d.cards.map(
      (c) => html`<li data-card-id="${c.id}"><p>${fill(t.factors.nfcCard, { name: c.name, uid: c.uid, date: day(c.createdAt) })}</p>
<form method="post" action="${d.base}/nfc/${c.id}/remove">${csrfField(d.csrf)}<button type="submit" class="secondary" aria-label="${t.factors.nfcRemove} ${c.name}">${t.factors.nfcRemove}</button></form></li>`,
    )}</ul>`}
<a class="button" href="${d.base}/nfc">${t.factors.nfcAdd}</a>
</div>`;
}

/** The field the authenticator app's removal asks for (on its confirmation page). */
export function otpRemoveFields(t: Strings): SafeHtml {
  return field({ id: 'remove-otp-code', name: 'code', label: t.factors.otpRemoveCode, autocomplete: 'one-time-code', inputmode: 'numeric', hint: t.factors.otpRemoveHint, autofocus: true });
}

/** An account-page context: its base is /t/<slug>/account. */
export type AccountPageShell = PageContext;

function accountShell(d: AccountPageShell, title: string, body: SafeHtml): string {
  return layout({ title, tenantName: d.tenantName, ...(d.logoUrl ? { logoUrl: d.logoUrl } : {}), nonce: d.nonce, lang: d.t.lang, base: d.base, skipLabel: d.t.common.skipToContent }, body).value;
}

export function totpEnrolPage(d: AccountPageShell & { qrSvg: string; secret: string; error?: string | undefined }): string {
  const { t } = d;
  const grouped = d.secret.replace(/(.{4})/g, '$1 ').trim();
  return accountShell(
    d,
    t.factors.otpEnrolTitle,
    html`<section class="card">
<h1>${t.factors.otpEnrolTitle}</h1>
<p>${t.factors.otpEnrolIntro}</p>
<figure class="qr" role="img" aria-label="${t.factors.otpQrLabel}">${raw(d.qrSvg)}</figure>
<p>${t.factors.otpSecretLabel}: <code id="totp-secret">${grouped}</code></p>
<form method="post" action="${d.base}/totp/confirm" novalidate>
${csrfField(d.csrf)}
${field({ id: 'code', label: t.stepUp.otp.codeLabel, hint: t.stepUp.otp.codeHint, error: d.error, autocomplete: 'one-time-code', inputmode: 'numeric', required: true, autofocus: true })}
<button type="submit">${t.factors.otpConfirm}</button>
</form>
<nav class="links"><p><a href="${d.base}">${t.common.cancel}</a></p></nav>
</section>`,
  );
}

export interface NfcEnrolValues {
  name?: string;
  uid?: string;
  metaReadKey?: string;
  fileReadKey?: string;
  tap?: string;
}

export function nfcEnrolPage(
  d: AccountPageShell & { values?: NfcEnrolValues; errors?: Partial<Record<keyof NfcEnrolValues, string>>; formError?: string | undefined },
): string {
  const { t } = d;
  const values = d.values ?? {};
  const errors = d.errors ?? {};
  return accountShell(
    d,
    t.factors.nfcEnrolTitle,
    html`<section class="card">
<h1>${t.factors.nfcEnrolTitle}</h1>
<p>${t.factors.nfcEnrolIntro}</p>
${statusRegion(d.formError)}
<form method="post" action="${d.base}/nfc" novalidate>
${csrfField(d.csrf)}
${field({ id: 'name', label: t.factors.nfcNameLabel, hint: t.factors.nfcNameHint, value: values.name, error: errors.name, required: true })}
${field({ id: 'uid', label: t.factors.nfcUidLabel, hint: t.factors.nfcUidHint, value: values.uid, error: errors.uid, autocomplete: 'off', required: true })}
${field({ id: 'metaReadKey', label: t.factors.nfcMetaKeyLabel, hint: t.factors.nfcKeyHint, error: errors.metaReadKey, autocomplete: 'off', required: true })}
${field({ id: 'fileReadKey', label: t.factors.nfcFileKeyLabel, hint: t.factors.nfcKeyHint, error: errors.fileReadKey, autocomplete: 'off', required: true })}
${field({ id: 'tap', label: t.factors.nfcTapLabel, hint: t.factors.nfcTapHint, type: 'url', value: values.tap, error: errors.tap, autocomplete: 'off', required: true })}
<button type="submit">${t.factors.nfcSubmit}</button>
</form>
<nav class="links"><p><a href="${d.base}">${t.common.cancel}</a></p></nav>
</section>`,
  );
}
