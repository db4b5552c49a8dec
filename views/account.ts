// The account page: passkeys (rename, remove, add), recovery codes left, recent sign-ins, sign-out.
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';
import { csrfField, field, statusRegion } from './components.ts';
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
  data-msg-cancelled="${t.errors.browserCancelled}" data-msg-working="${t.common.working}" data-msg-generic="${t.errors.generic}">
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
