// The face prompt's pages: enrolment from the account page (consent, camera with an oval guide,
// a few frames) and verification as a step-up factor (instructions one step at a time). The page
// script /assets/build/face.js finds its endpoints and messages in data- attributes.
import type { ComponentChildren } from 'preact';
import { Card, StatusRegion } from '../components/forms.tsx';
import { renderDocument } from '../render.ts';
import { FlowPage, type PageContext } from './interaction.tsx';
import { BackToApp, OtherWays } from './step-up.tsx';
import { fill, type Strings } from '../../views/strings/index.ts';

const SCRIPT = '/assets/build/face.js';

/** The endpoints' base is /t/<slug>/account or /t/<slug>/interaction/<uid>/stepup/face. */
type FacePageBase = PageContext;

function page(d: FacePageBase, body: ComponentChildren): string {
  return renderDocument(<FlowPage ctx={d} title={d.t.face.title} scripts={[SCRIPT]}>{body}</FlowPage>);
}

/** Messages every face page script may show, by reason code. */
function messages(t: Strings) {
  return {
    'data-msg-no-camera': t.face.noCamera,
    'data-msg-denied': t.face.cameraDenied,
    'data-msg-generic': t.errors.generic,
    'data-msg-checking': t.face.checking,
    'data-msg-capturing': t.face.capturing,
    'data-msg-step-of': t.face.stepOf,
    'data-msg-consent': t.face.consentRequired,
  };
}

function Camera({ t }: { t: Strings }) {
  return (
    <div class="camera" hidden>
      <canvas id="face-preview" width="400" height="300" aria-label={t.face.guide}></canvas>
      <video id="face-video" playsinline muted hidden></video>
    </div>
  );
}

export function faceEnrolPage(d: FacePageBase & { consent: string; state: 'ready' | 'reauth' | 'unavailable'; passkeyProof?: boolean }): string {
  const { t } = d;
  let body: ComponentChildren;
  if (d.state === 'unavailable') {
    body = <p class="error" role="alert">{t.face.reasons.unavailable}</p>;
  } else if (d.state === 'reauth') {
    // A passkey-only account proves itself with a passkey sign-in; others with a second factor.
    body = d.passkeyProof ? (
      <>
        <p role="alert">{t.face.reauthNeeded}</p>
        <p><a href={`${d.base}/sign-in`} class="button">{t.face.reauthLink}</a></p>
      </>
    ) : (
      <>
        <p role="alert">{t.freshProof.required}</p>
        <p><a href={`${d.base}/verify?next=${encodeURIComponent(`${d.base}/face`)}`} class="button">{t.freshProof.title}</a></p>
      </>
    );
  } else {
    body = (
      <div data-page="face-enrol" data-enrol-url={`${d.base}/face/enrol`} data-csrf={d.csrf} {...messages(t)}>
        <p id="face-consent-text">{d.consent}</p>
        <div class="field"><label><input type="checkbox" id="face-consent" aria-describedby="face-consent-text" /> {t.face.consentLabel}</label></div>
        <StatusRegion />
        <p class="hint" id="face-guide">{t.face.guide}</p>
        <Camera t={t} />
        <button type="button" id="face-start">{t.face.startCamera}</button>
        <button type="button" id="face-capture" hidden disabled>{t.face.capture}</button>
        <noscript><p class="error">{t.face.noCamera}</p></noscript>
      </div>
    );
  }
  return page(
    d,
    <Card>
      <h1>{t.face.enrolHeading}</h1>
      {body}
      <nav class="links"><p><a href={d.base}>{t.account.title}</a></p></nav>
    </Card>,
  );
}

export function faceVerifyPage(
  d: FacePageBase & { clientName: string; available: boolean; testSteps?: string; verifyQuery?: string; stepUp?: { base: string; others: string[] } },
): string {
  const { t } = d;
  return page(
    d,
    <section class="card" data-page="face-verify" data-challenge-url={`${d.base}/challenge`} data-verify-url={`${d.base}/verify${d.verifyQuery ?? ''}`} data-csrf={d.csrf} data-test-steps={d.testSteps || undefined} {...messages(t)} data-msg-retry={t.face.retry}>
      <h1>{t.face.verifyHeading}</h1>
      {d.available ? (
        <>
          <p>{fill(t.face.verifyIntro, { client: d.clientName })}</p>
          <p id="face-step" class="step" aria-live="polite"></p>
          <StatusRegion />
          <Camera t={t} />
          <button type="button" id="face-start">{t.face.start}</button>
          <noscript><p class="error">{t.face.noCamera}</p></noscript>
        </>
      ) : (
        <p class="error" role="alert">{t.face.reasons.unavailable}</p>
      )}
      {d.stepUp ? <OtherWays t={t} base={d.stepUp.base} others={d.stepUp.others} /> : null}
      {d.stepUp ? <BackToApp t={t} base={d.stepUp.base} csrf={d.csrf} clientName={d.clientName} /> : null}
    </section>,
  );
}
