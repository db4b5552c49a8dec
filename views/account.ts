// The account page: passkeys (rename, remove, add), recovery codes left, recent sign-ins, sign-out.
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';
import { csrfField, field, statusRegion, webauthnMessagesJson } from './components.ts';
import { fill } from './strings/index.ts';
import type { PageContext } from './pages.ts';

export interface AccountPasskey {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backupEligible: boolean;
}

export interface AccountPageData extends PageContext {
  userName: string;
  passkeys: AccountPasskey[];
  recoveryRemaining: number;
  face?: { enrolled: boolean; available: boolean } | undefined;
  /** Authenticator app and NFC cards (src/stepup/routes.ts). */
  factorSections?: SafeHtml | undefined;
  signIns: Array<{ at: Date; ip: string | null; userAgent: string | null; method: string }>;
  /** Changes to how the account signs in, newest first, with the proof each was made with. */
  securityChanges?: Array<{ at: Date; type: string; proof: string | null }> | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function accountPage(d: AccountPageData): string {
  const { t } = d;
  const onlyOne = d.passkeys.length <= 1;
  return layout(
    { title: t.account.title, tenantName: d.tenantName, ...(d.logoUrl ? { logoUrl: d.logoUrl } : {}), nonce: d.nonce, scripts: ['/assets/build/passkey.js'], lang: t.lang },
    html`<section class="card">
<h1>${t.account.heading}</h1>
<p class="detail">${fill(t.account.signedInAs, { user: d.userName })}</p>
${d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : ''}
${statusRegion(d.error)}
</section>
<section class="card" aria-labelledby="passkeys-heading" data-page="register" data-options-url="${d.base}/passkeys/options" data-verify-url="${d.base}/passkeys/verify" data-csrf="${d.csrf}"
  data-msg-cancelled="${t.errors.browserCancelled}" data-msg-working="${t.common.working}" data-msg-generic="${t.errors.generic}" data-messages="${webauthnMessagesJson(t)}">
<h2 id="passkeys-heading">${t.account.passkeys}</h2>
<ul class="passkeys" id="passkeys">
${d.passkeys.map(
  (p) => html`<li data-passkey-id="${p.id}">
<strong>${p.name}</strong>
<p class="detail">${fill(t.account.created, { date: day(p.createdAt) })}, ${p.lastUsedAt ? fill(t.account.lastUsed, { date: minute(p.lastUsedAt) }) : t.account.neverUsed} · ${p.backupEligible ? t.account.synced : t.account.deviceBound}</p>
<form method="post" action="${d.base}/passkeys/${p.id}/rename" class="inline">
${csrfField(d.csrf)}
${field({ id: `name-${p.id}`, name: 'name', label: fill(t.account.renameLabel, { name: p.name }), value: p.name, required: true })}
<button type="submit" class="secondary">${t.account.rename}</button>
</form>
${onlyOne
  ? html`<p class="hint">${t.account.lastPasskey}</p>`
  : html`<form method="post" action="${d.base}/passkeys/${p.id}/remove">${csrfField(d.csrf)}<button type="submit" class="secondary" aria-label="${t.account.remove} ${p.name}">${t.account.remove}</button></form>`}
</li>`,
)}
</ul>
${statusRegion()}
<button type="button" id="create-passkey">${t.account.add}</button>
<noscript><p class="error">${t.common.needsJs}</p></noscript>
</section>
${d.face ? faceSection(d, d.face) : ''}
${d.factorSections ?? ''}
<section class="card" aria-labelledby="recovery-heading">
<h2 id="recovery-heading">${t.account.recoveryCodes}</h2>
<p>${fill(t.account.recoveryRemaining, { count: d.recoveryRemaining })}</p>
<form method="post" action="${d.base}/recovery-codes">${csrfField(d.csrf)}<p class="hint" id="regenerate-hint">${t.securityChanges.regenerateHint}</p><button type="submit" class="secondary" aria-describedby="regenerate-hint">${t.securityChanges.regenerate}</button></form>
</section>
<section class="card" aria-labelledby="changes-heading">
<h2 id="changes-heading">${t.securityChanges.heading}</h2>
${(d.securityChanges ?? []).length === 0
  ? html`<p>${t.securityChanges.none}</p>`
  : html`<ul id="security-changes">${(d.securityChanges ?? []).map(
      (c) => html`<li data-type="${c.type}">${minute(c.at)} · ${t.securityChanges.types[c.type] ?? c.type}${c.proof ? html` <span class="detail">(${fill(t.securityChanges.proof, { factor: t.securityChanges.factors[c.proof] ?? c.proof })})</span>` : ''}</li>`,
    )}</ul>`}
</section>
<section class="card" aria-labelledby="signins-heading">
<h2 id="signins-heading">${t.account.recentSignIns}</h2>
${d.signIns.length === 0
  ? html`<p>${t.account.noSignIns}</p>`
  : html`<ul id="sign-ins">${d.signIns.map((s) => html`<li>${minute(s.at)} · ${s.method}${s.ip ? ` · ${s.ip}` : ''}${s.userAgent ? html`<br><span class="detail">${s.userAgent.slice(0, 120)}</span>` : ''}</li>`)}</ul>`}
</section>
<section class="card">
<form method="post" action="${d.base}/sign-out">${csrfField(d.csrf)}<button type="submit" class="secondary">${t.account.signOut}</button></form>
<form method="post" action="${d.base}/sign-out-everywhere">${csrfField(d.csrf)}
<p class="hint" id="everywhere-hint">${t.account.signOutEverywhereHint}</p>
<button type="submit" aria-describedby="everywhere-hint">${t.account.signOutEverywhere}</button></form>
</section>`,
  ).value;
}

function faceSection(d: AccountPageData, face: { enrolled: boolean; available: boolean }) {
  const { t } = d;
  return html`<section class="card" aria-labelledby="face-heading" id="face">
<h2 id="face-heading">${t.face.accountHeading}</h2>
<p class="detail">${t.face.accountIntro}</p>
<p>${face.enrolled ? t.face.enrolled : t.face.notEnrolled}</p>
${face.enrolled
  ? html`<form method="post" action="${d.base}/face/delete">${csrfField(d.csrf)}<p class="hint" id="face-remove-hint">${t.face.removeHint}</p><button type="submit" class="secondary" aria-describedby="face-remove-hint">${t.face.remove}</button></form>`
  : face.available
    ? html`<p><a href="${d.base}/face" class="button">${t.face.add}</a></p>`
    : html`<p class="hint">${t.face.unavailable}</p>`}
</section>`;
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
    { title: t.freshProof.title, tenantName: d.tenantName, ...(d.logoUrl ? { logoUrl: d.logoUrl } : {}), nonce: d.nonce, lang: t.lang },
    html`<section class="card">
<h1>${t.freshProof.heading}</h1>
<p>${t.freshProof.intro}</p>
${statusRegion(d.error)}
<ul class="proofs">${d.accepted.map(option)}</ul>
<nav class="links"><p><a href="${d.base}">${t.common.back}</a></p></nav>
</section>`,
  ).value;
}
