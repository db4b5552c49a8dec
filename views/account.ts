// The account page: passkeys (rename, remove, add), recovery codes left, recent sign-ins, sign-out.
import { html, type SafeHtml } from '../ui/html.ts';
import { layout } from '../ui/components/layout.tsx';
import { csrfField, field, statusRegion, webauthnMessagesJson } from '../ui/components/forms.tsx';
import { fill } from './strings/index.ts';
import type { PageContext } from '../ui/pages/interaction.tsx';

export interface AccountPasskey {
  id: string;
  name: string;
  /** The passkey provider (from its AAGUID), when known. */
  provider?: string | undefined;
  createdAt: Date;
  lastUsedAt: Date | null;
  backupEligible: boolean;
}

export interface AccountSignIn {
  at: Date;
  /** Browser and operating system parsed from the User-Agent (never the raw string). */
  device: { browser: string | undefined; os: string | undefined };
  /** What was proved, for which application ("Step-up for Demo web app with an app code"). */
  method: string;
  /** The factor proved (src/factors/names.ts), as data-factor. */
  factor?: string | undefined;
  /** Made from the browser now showing the page. */
  thisDevice: boolean;
}

export interface AccountPageData extends PageContext {
  userName: string;
  passkeys: AccountPasskey[];
  recoveryRemaining: number;
  face?: { enrolled: boolean; available: boolean } | undefined;
  /** Authenticator app and NFC cards (src/stepup/routes.ts). */
  factorSections?: SafeHtml | undefined;
  signIns: AccountSignIn[];
  /** The account's oidc-provider sessions, each signed out on its own. */
  sessions?: Array<{ uid: string; since: Date | undefined; apps: string[] }> | undefined;
  /** Clients the user allowed (remembered consents), with what each may do. */
  apps?: Array<{ clientId: string; name: string; access: string[]; since: Date }> | undefined;
  /** Changes to how the account signs in, newest first, with the proof each was made with. */
  securityChanges?: Array<{ at: Date; type: string; proof: string | null; detail?: string | undefined }> | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** A time the browser rewrites into the reader's own time zone (<time> + page script); UTC without scripts. */
const when = (d: Date) => html`<time datetime="${d.toISOString()}" data-local>${minute(d)}</time>`;
/** A string with one {placeholder} filled by markup (a <time>), the rest escaped. */
const fillWith = (template: string, key: string, value: SafeHtml) => {
  const [before, after = ''] = template.split(`{${key}}`);
  return html`${before}${value}${after}`;
};

export function deviceLabel(t: PageContext['t'], device: { browser: string | undefined; os: string | undefined }): string {
  if (device.browser && device.os) return fill(t.account.deviceName, { browser: device.browser, os: device.os });
  return device.browser ?? device.os ?? t.account.unknownDevice;
}

export function accountPage(d: AccountPageData): string {
  const { t } = d;
  const onlyOne = d.passkeys.length <= 1;
  const sections = t.account.sections;
  return layout(
    { title: t.account.title, tenantName: d.tenantName, ...(d.logoUrl ? { logoUrl: d.logoUrl } : {}), nonce: d.nonce, scripts: ['/assets/build/passkey.js', '/assets/build/local-time.js'], lang: t.lang, base: d.base, skipLabel: t.common.skipToContent },
    html`<section class="card account-head">
<h1>${t.account.heading}</h1>
<p class="detail">${fill(t.account.signedInAs, { user: d.userName })}</p>
${d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : ''}
${statusRegion(d.error, 'account-status')}
<nav aria-label="${t.account.sectionsLabel}" class="section-nav"><ul>
<li><a href="#security">${sections.security}</a></li><li><a href="#devices">${sections.devices}</a></li><li><a href="#apps">${sections.apps}</a></li><li><a href="#activity">${sections.activity}</a></li>
</ul></nav>
</section>
<section id="security" class="account-section" aria-labelledby="security-heading">
<h2 id="security-heading">${sections.security}</h2>
<div class="card" role="group" aria-labelledby="passkeys-heading" data-page="register" data-options-url="${d.base}/passkeys/options" data-verify-url="${d.base}/passkeys/verify" data-csrf="${d.csrf}"
  data-msg-cancelled="${t.errors.browserCancelled}" data-msg-working="${t.common.working}" data-msg-generic="${t.errors.generic}" data-messages="${webauthnMessagesJson(t)}">
<h3 id="passkeys-heading">${t.account.passkeys}</h3>
<ul class="passkeys" id="passkeys">
${d.passkeys.map(
  (p) => html`<li data-passkey-id="${p.id}">
<strong class="passkey-name">${p.name}</strong>${p.provider && p.provider !== p.name ? html` <span class="detail">${fill(t.account.provider, { provider: p.provider })}</span>` : ''}
<p class="detail">${fill(t.account.created, { date: day(p.createdAt) })}, ${p.lastUsedAt ? fillWith(t.account.lastUsed, 'date', when(p.lastUsedAt)) : t.account.neverUsed} · ${p.backupEligible ? t.account.synced : t.account.deviceBound}</p>
<div class="row-actions">
<details class="rename"><summary>${t.account.renameSummary}<span class="visually-hidden"> ${p.name}</span></summary>
<form method="post" action="${d.base}/passkeys/${p.id}/rename" class="inline">
${csrfField(d.csrf)}
${field({ id: `name-${p.id}`, name: 'name', label: fill(t.account.renameLabel, { name: p.name }), value: p.name, required: true })}
<button type="submit" class="secondary">${t.account.rename}</button>
</form></details>
${onlyOne ? '' : html`<a class="button secondary small" href="${d.base}/passkeys/${p.id}/remove" aria-label="${t.account.remove} ${p.name}">${t.account.remove}</a>`}
</div>
${onlyOne ? html`<p class="hint">${t.account.lastPasskey}</p>` : ''}
</li>`,
)}
</ul>
${statusRegion()}
<button type="button" id="create-passkey">${t.account.add}</button>
<noscript><p class="error">${t.common.needsJs}</p></noscript>
</div>
${d.factorSections ?? ''}
${d.face ? faceSection(d, d.face) : ''}
<div class="card" role="group" aria-labelledby="recovery-heading">
<h3 id="recovery-heading">${t.account.recoveryCodes}</h3>
<p>${fill(t.account.recoveryRemaining, { count: d.recoveryRemaining }, t.lang)}</p>
<form method="post" action="${d.base}/recovery-codes">${csrfField(d.csrf)}<p class="hint" id="regenerate-hint">${t.securityChanges.regenerateHint}</p><button type="submit" class="secondary" aria-describedby="regenerate-hint">${t.securityChanges.regenerate}</button></form>
</div>
</section>
<section id="devices" class="account-section" aria-labelledby="devices-heading">
<h2 id="devices-heading">${sections.devices}</h2>
<div class="card" role="group" aria-labelledby="signins-heading">
<h3 id="signins-heading">${t.account.recentSignIns}</h3>
${d.signIns.length === 0
  ? html`<p>${t.account.noSignIns}</p>`
  : html`<ul id="sign-ins" class="rows">${d.signIns.map(
      (s) => html`<li${s.thisDevice ? html` class="this-device"` : ''}${s.factor ? html` data-factor="${s.factor}"` : ''}><strong>${deviceLabel(t, s.device)}</strong>${s.thisDevice ? html` <span class="badge">${t.account.thisDevice}</span>` : ''}<br><span class="detail">${when(s.at)} · ${s.method}</span></li>`,
    )}</ul>`}
</div>
<div class="card" role="group" aria-labelledby="sessions-heading">
<h3 id="sessions-heading">${t.account.sessionsHeading}</h3>
${(d.sessions ?? []).length === 0
  ? html`<p>${t.account.sessionsNone}</p>`
  : html`<ul id="sessions" class="rows">${(d.sessions ?? []).map(
      (s, i) => html`<li><span>${s.since ? fillWith(t.account.sessionSince, 'date', when(s.since)) : ''}${s.apps.length ? html`<br><span class="detail">${fill(t.account.sessionApps, { apps: s.apps.join(', ') })}</span>` : ''}</span>
<form method="post" action="${d.base}/sessions/${s.uid}/sign-out">${csrfField(d.csrf)}<button type="submit" class="secondary small" aria-label="${t.account.sessionSignOut} ${i + 1}">${t.account.sessionSignOut}</button></form></li>`,
    )}</ul>`}
<form method="post" action="${d.base}/sign-out">${csrfField(d.csrf)}<button type="submit" class="secondary">${t.account.signOut}</button></form>
</div>
<div class="card danger" role="group" aria-labelledby="danger-heading">
<h3 id="danger-heading">${t.account.dangerHeading}</h3>
<p class="hint" id="everywhere-hint">${t.account.signOutEverywhereHint}</p>
<a class="button danger-outline" href="${d.base}/sign-out-everywhere" aria-describedby="everywhere-hint">${t.account.signOutEverywhere}</a>
</div>
</section>
<section id="apps" class="account-section" aria-labelledby="apps-heading">
<h2 id="apps-heading">${sections.apps}</h2>
<div class="card">
<p class="detail">${t.account.appsIntro}</p>
${(d.apps ?? []).length === 0
  ? html`<p>${t.account.appsNone}</p>`
  : html`<ul id="connected-apps" class="rows">${(d.apps ?? []).map(
      (a) => html`<li data-client-id="${a.clientId}"><span><strong>${a.name}</strong><br><span class="detail">${fill(t.account.appSince, { date: day(a.since) })}${a.access.length ? ` · ${a.access.join(', ')}` : ''}</span></span>
<form method="post" action="${d.base}/apps/${encodeURIComponent(a.clientId)}/revoke">${csrfField(d.csrf)}<button type="submit" class="secondary small" aria-label="${t.account.appRevoke}: ${a.name}">${t.account.appRevoke}</button></form></li>`,
    )}</ul>`}
</div>
</section>
<section id="activity" class="account-section" aria-labelledby="activity-heading">
<h2 id="activity-heading">${sections.activity}</h2>
<div class="card" role="group" aria-labelledby="changes-heading">
<h3 id="changes-heading">${t.securityChanges.heading}</h3>
${(d.securityChanges ?? []).length === 0
  ? html`<p>${t.securityChanges.none}</p>`
  : html`<ul id="security-changes" class="rows">${(d.securityChanges ?? []).map(
      (c) => html`<li data-type="${c.type}"><span>${t.securityChanges.types[c.type] ?? c.type}${c.detail ? html` <span class="detail">· ${c.detail}</span>` : ''}${c.proof ? html` <span class="detail">(${fill(t.securityChanges.proof, { factor: t.securityChanges.factors[c.proof] ?? c.proof })})</span>` : ''}<br><span class="detail">${when(c.at)}</span></span></li>`,
    )}</ul>`}
</div>
</section>`,
  ).value;
}

function faceSection(d: AccountPageData, face: { enrolled: boolean; available: boolean }) {
  const { t } = d;
  return html`<div class="card" role="group" aria-labelledby="face-heading" id="face">
<h3 id="face-heading">${t.face.accountHeading}</h3>
<p class="detail">${t.face.accountIntro}</p>
<p>${face.enrolled ? t.face.enrolled : t.face.notEnrolled}</p>
${face.enrolled
  ? html`<p class="hint" id="face-remove-hint">${t.face.removeHint}</p><a class="button secondary" href="${d.base}/face/delete" aria-describedby="face-remove-hint">${t.face.remove}</a>`
  : face.available
    ? html`<p><a href="${d.base}/face" class="button">${t.face.add}</a></p>`
    : html`<p class="hint">${t.face.unavailable}</p>`}
</div>`;
}

/**
 * A confirmation before a destructive change (remove a passkey, the authenticator app, the face
 * check; sign out everywhere): what happens, a POST form doing it, and a way back. No script needed.
 */
export function confirmPage(
  d: PageContext & { heading: string; text: string; action: string; button: string; fields?: SafeHtml | undefined; danger?: boolean },
): string {
  const { t } = d;
  return layout(
    { title: t.account.confirmTitle, tenantName: d.tenantName, ...(d.logoUrl ? { logoUrl: d.logoUrl } : {}), nonce: d.nonce, lang: t.lang, base: d.base, skipLabel: t.common.skipToContent },
    html`<section class="card" data-page="confirm">
<h1>${d.heading}</h1>
<p>${d.text}</p>
<form method="post" action="${d.action}" novalidate>
${csrfField(d.csrf)}
${d.fields ?? ''}
<div class="actions"><button type="submit" class="${d.danger === false ? '' : 'danger'}" id="confirm-button">${d.button}</button>
<a class="button secondary" href="${d.base}">${t.account.confirmCancel}</a></div>
</form>
</section>`,
  ).value;
}

/** /account/verify: the fresh proofs that allow a change to how the account signs in. */
export function freshProofPage(d: PageContext & { accepted: string[]; next: string; removing?: string | undefined; error?: string | undefined }): string {
  const { t } = d;
  const hidden = html`${csrfField(d.csrf)}<input type="hidden" name="next" value="${d.next}">${d.removing ? html`<input type="hidden" name="removing" value="${d.removing}">` : ''}`;
  const option = (factor: string) => {
    switch (factor) {
      case 'otp':
        return html`<li id="proof-otp"><form method="post" action="${d.base}/verify/otp" novalidate>${hidden}
${field({ id: 'code', label: t.freshProof.otp, autocomplete: 'one-time-code', inputmode: 'numeric', required: true, autofocus: true })}
<button type="submit">${t.freshProof.otpSubmit}</button></form></li>`;
      case 'nfc':
        return html`<li id="proof-nfc"><form method="post" action="${d.base}/verify/nfc" novalidate>${hidden}
${field({ id: 'tap', label: t.freshProof.nfc, autocomplete: 'off', required: true })}
<button type="submit">${t.freshProof.nfcSubmit}</button></form></li>`;
      case 'passkey':
        return html`<li id="proof-passkey"><a class="button" href="${d.base}/sign-in">${t.freshProof.passkey}</a></li>`;
      case 'recovery_code':
        return html`<li id="proof-recovery"><a href="${d.base}/sign-in/recovery">${t.freshProof.recovery_code}</a></li>`;
      case 'face':
        return html`<li id="proof-face"><a class="button" href="${d.base}/verify/face?next=${encodeURIComponent(d.next)}${d.removing ? `&removing=${d.removing}` : ''}">${t.freshProof.face}</a></li>`;
      default:
        return html``;
    }
  };
  return layout(
    { title: t.freshProof.title, tenantName: d.tenantName, ...(d.logoUrl ? { logoUrl: d.logoUrl } : {}), nonce: d.nonce, lang: t.lang, base: d.base, skipLabel: t.common.skipToContent },
    html`<section class="card">
<h1>${t.freshProof.heading}</h1>
<p>${t.freshProof.intro}</p>
${statusRegion(d.error)}
<ul class="proofs">${d.accepted.map(option)}</ul>
<nav class="links"><p><a href="${d.base}">${t.common.back}</a></p></nav>
</section>`,
  ).value;
}
