// The face prompt's pages: enrolment from the account page (consent, camera with an oval guide,
// a few frames) and verification as a step-up factor (instructions one step at a time). The page
// script /assets/build/face.js finds its endpoints and messages in data- attributes.
import { html, type SafeHtml } from '../ui/html.ts';
import { layout } from '../ui/components/layout.tsx';
import type { PageContext } from '../ui/pages/interaction.tsx';
import { cancelForm, statusRegion } from '../ui/components/forms.tsx';
import type { Strings } from './strings/index.ts';
import { fill } from './strings/index.ts';

const SCRIPT = '/assets/build/face.js';

/** The endpoints' base is /t/<slug>/account or /t/<slug>/interaction/<uid>/stepup/face. */
type FacePageBase = PageContext;

function page(d: FacePageBase, body: SafeHtml): string {
  return layout(
    { title: d.t.face.title, tenantName: d.tenantName, ...(d.logoUrl ? { logoUrl: d.logoUrl } : {}), nonce: d.nonce, scripts: [SCRIPT], lang: d.t.lang, base: d.base, skipLabel: d.t.common.skipToContent },
    body,
  ).value;
}

/** Messages every face page script may show, by reason code. */
function messages(t: Strings): SafeHtml {
  return html` data-msg-no-camera="${t.face.noCamera}" data-msg-denied="${t.face.cameraDenied}" data-msg-generic="${t.errors.generic}" data-msg-checking="${t.face.checking}" data-msg-capturing="${t.face.capturing}" data-msg-step-of="${t.face.stepOf}" data-msg-consent="${t.face.consentRequired}"`;
}

const camera = (t: Strings) => html`<div class="camera" hidden>
<canvas id="face-preview" width="400" height="300" aria-label="${t.face.guide}"></canvas>
<video id="face-video" playsinline muted hidden></video>
</div>`;

export function faceEnrolPage(d: FacePageBase & { consent: string; state: 'ready' | 'reauth' | 'unavailable'; passkeyProof?: boolean }): string {
  const { t } = d;
  let body: SafeHtml;
  if (d.state === 'unavailable') {
    body = html`<p class="error" role="alert">${t.face.reasons.unavailable}</p>`;
  } else if (d.state === 'reauth') {
    // A passkey-only account proves itself with a passkey sign-in; others with a second factor.
    body = d.passkeyProof
      ? html`<p role="alert">${t.face.reauthNeeded}</p><p><a href="${d.base}/sign-in" class="button">${t.face.reauthLink}</a></p>`
      : html`<p role="alert">${t.freshProof.required}</p><p><a href="${d.base}/verify?next=${encodeURIComponent(`${d.base}/face`)}" class="button">${t.freshProof.title}</a></p>`;
  } else {
    body = html`<div data-page="face-enrol" data-enrol-url="${d.base}/face/enrol" data-csrf="${d.csrf}"${messages(t)}>
<p id="face-consent-text">${d.consent}</p>
<div class="field"><label><input type="checkbox" id="face-consent" aria-describedby="face-consent-text"> ${t.face.consentLabel}</label></div>
${statusRegion()}
<p class="hint" id="face-guide">${t.face.guide}</p>
${camera(t)}
<button type="button" id="face-start">${t.face.startCamera}</button>
<button type="button" id="face-capture" hidden disabled>${t.face.capture}</button>
<noscript><p class="error">${t.face.noCamera}</p></noscript>
</div>`;
  }
  return page(
    d,
    html`<section class="card">
<h1>${t.face.enrolHeading}</h1>
${body}
<nav class="links"><p><a href="${d.base}">${t.account.title}</a></p></nav>
</section>`,
  );
}

export function faceVerifyPage(
  d: FacePageBase & { clientName: string; available: boolean; testSteps?: string; verifyQuery?: string; stepUp?: { base: string; others: string[] } },
): string {
  const { t } = d;
  return page(
    d,
    html`<section class="card" data-page="face-verify" data-challenge-url="${d.base}/challenge" data-verify-url="${d.base}/verify${d.verifyQuery ?? ''}" data-csrf="${d.csrf}"${
      d.testSteps ? html` data-test-steps="${d.testSteps}"` : ''
    }${messages(t)} data-msg-retry="${t.face.retry}">
<h1>${t.face.verifyHeading}</h1>
${d.available
  ? html`<p>${fill(t.face.verifyIntro, { client: d.clientName })}</p>
<p id="face-step" class="step" aria-live="polite"></p>
${statusRegion()}
${camera(t)}
<button type="button" id="face-start">${t.face.start}</button>
<noscript><p class="error">${t.face.noCamera}</p></noscript>`
  : html`<p class="error" role="alert">${t.face.reasons.unavailable}</p>`}
${d.stepUp && d.stepUp.others.length > 0
  ? html`<nav class="links" aria-labelledby="other-ways-heading" id="other-ways"><h2 id="other-ways-heading" class="small">${t.stepUp.tryAnother}</h2>${d.stepUp.others.map(
      (f) => html`<p><a href="${d.stepUp!.base}/stepup/${f}" data-factor="${f}">${t.stepUp.factorNames[f] ?? f}</a></p>`,
    )}</nav>`
  : ''}
${d.stepUp ? cancelForm({ action: `${d.stepUp.base}/cancel`, csrf: d.csrf, label: fill(t.stepUp.cancel, { client: d.clientName }) }) : ''}
</section>`,
  );
}
