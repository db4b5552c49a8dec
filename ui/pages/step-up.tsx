// Step-up pages (the "stronger sign-in" intro, the app-code and NFC-card prompts) and the account
// page's authenticator-app and NFC-card sections with their enrolment pages. Every form works
// without JavaScript; the NFC page's script only adds Web NFC scanning where the browser has it.
import type { VNode } from 'preact';
import type { SafeHtml } from '../html.ts';
import { CancelForm, Card, CsrfField, Field, StatusRegion } from '../components/forms.tsx';
import { renderDocument } from '../render.ts';
import { FlowPage, type PageContext } from './interaction.tsx';
import { fill, type Strings } from '../../views/strings/index.ts';

const factorName = (t: Strings, factor: string) => t.stepUp.factorNames[factor] ?? factor;

/** "Try another method": links to the other factors that would also do, under a factor's form. */
export function OtherWays({ t, base, others }: { t: Strings; base: string; others: string[] }) {
  if (others.length === 0) return null;
  return (
    <nav class="links" aria-labelledby="other-ways-heading" id="other-ways">
      <h2 id="other-ways-heading" class="small">{t.stepUp.tryAnother}</h2>
      {others.map((f) => <p><a href={`${base}/stepup/${f}`} data-factor={f}>{factorName(t, f)}</a></p>)}
    </nav>
  );
}

/** "Cancel and go back to the application" (access_denied at the client). */
export function BackToApp({ t, base, csrf, clientName }: { t: Strings; base: string; csrf: string; clientName: string | undefined }) {
  if (!clientName) return null;
  return <CancelForm action={`${base}/cancel`} csrf={csrf} label={fill(t.stepUp.cancel, { client: clientName })} />;
}

export function stepUpIntroPage(ctx: PageContext, { clientName, level, missing, next, others = [] }: { clientName: string; level: string; missing: string[]; next: string; others?: string[] }): string {
  const { t } = ctx;
  return renderDocument(
    <FlowPage ctx={ctx} title={t.stepUp.title}>
      <Card page="step-up">
        <h1>{fill(t.stepUp.heading, { client: clientName })}</h1>
        <p>{fill(t.stepUp.target, { level })}</p>
        <p>{t.stepUp.stillNeeded}</p>
        <ul id="missing-factors">
          {missing.map((f) => <li data-factor={f}>{factorName(t, f)}</li>)}
        </ul>
        <a class="button" id="step-up-continue" href={next}>{t.stepUp.continue}</a>
        <OtherWays t={t} base={ctx.base} others={others} />
        <BackToApp t={t} base={ctx.base} csrf={ctx.csrf} clientName={clientName} />
      </Card>
    </FlowPage>,
  );
}

export function otpStepUpPage(
  ctx: PageContext,
  { error, formError, others = [], clientName }: { error?: string | undefined; formError?: string | SafeHtml | undefined; others?: string[]; clientName?: string | undefined },
): string {
  const { t } = ctx;
  return renderDocument(
    <FlowPage ctx={ctx} title={t.stepUp.otp.title} scripts={['/assets/build/local-time.js']}>
      <Card page="step-up-otp">
        <h1>{t.stepUp.otp.heading}</h1>
        <p>{fill(t.stepUp.otp.intro, { tenant: ctx.tenantName })}</p>
        <StatusRegion message={formError} />
        <form method="post" action={`${ctx.base}/stepup/otp`} novalidate>
          <CsrfField token={ctx.csrf} />
          <Field id="code" label={t.stepUp.otp.codeLabel} hint={t.stepUp.otp.codeHint} error={error} autocomplete="one-time-code" inputmode="numeric" required autofocus />
          <button type="submit">{t.stepUp.otp.submit}</button>
        </form>
        <OtherWays t={t} base={ctx.base} others={others} />
        <BackToApp t={t} base={ctx.base} csrf={ctx.csrf} clientName={clientName} />
      </Card>
    </FlowPage>,
  );
}

export function nfcStepUpPage(
  ctx: PageContext,
  { error, formError, value, others = [], clientName }: { error?: string | undefined; formError?: string | SafeHtml | undefined; value?: string | undefined; others?: string[]; clientName?: string | undefined },
): string {
  const { t } = ctx;
  return renderDocument(
    <FlowPage ctx={ctx} title={t.stepUp.nfc.title} scripts={['/assets/build/step-up-nfc.js', '/assets/build/local-time.js']}>
      <section class="card" data-page="step-up-nfc" data-msg-scan={t.stepUp.nfc.scanButton} data-msg-scanning={t.stepUp.nfc.scanning} data-msg-failed={t.stepUp.nfc.scanFailed}>
        <h1>{t.stepUp.nfc.heading}</h1>
        <p>{t.stepUp.nfc.intro}</p>
        <StatusRegion message={formError} />
        <form method="post" action={`${ctx.base}/stepup/nfc`} id="nfc-form" novalidate>
          <CsrfField token={ctx.csrf} />
          <Field id="tap" label={t.stepUp.nfc.tapLabel} hint={t.stepUp.nfc.tapHint} error={error} value={value} type="url" autocomplete="off" required />
          <button type="submit">{t.stepUp.nfc.submit}</button>
        </form>
        <OtherWays t={t} base={ctx.base} others={others} />
        <BackToApp t={t} base={ctx.base} csrf={ctx.csrf} clientName={clientName} />
      </section>
    </FlowPage>,
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
export function AccountFactors({ d }: { d: AccountFactorsData }) {
  const { t } = d;
  return (
    <>
      <div class="card" role="group" aria-labelledby="otp-heading" id="otp-section">
        <h3 id="otp-heading">{t.factors.otpHeading}</h3>
        {d.notice ? <p class="notice" role="status">{d.notice}</p> : null}
        {d.otp ? (
          <>
            <p>{fill(t.factors.otpOn, { date: day(d.otp.createdAt) })}</p>
            <a class="button secondary" href={`${d.base}/totp/remove`}>{t.factors.otpRemove}</a>
          </>
        ) : (
          <>
            <p>{t.factors.otpOff}</p>
            <form method="post" action={`${d.base}/totp/start`}>
              <CsrfField token={d.csrf} />
              <button type="submit">{t.factors.otpAdd}</button>
            </form>
          </>
        )}
      </div>
      <div class="card" role="group" aria-labelledby="nfc-heading" id="nfc-section">
        <h3 id="nfc-heading">{t.factors.nfcHeading}</h3>
        {d.cards.length === 0 ? (
          <p>{t.factors.nfcNone}</p>
        ) : (
          <ul class="passkeys" id="nfc-cards">
            {d.cards.map((c) => (
              <li data-card-id={c.id}>
                <p>{fill(t.factors.nfcCard, { name: c.name, uid: c.uid, date: day(c.createdAt) })}</p>
                <form method="post" action={`${d.base}/nfc/${c.id}/remove`}>
                  <CsrfField token={d.csrf} />
                  <button type="submit" class="secondary" aria-label={`${t.factors.nfcRemove} ${c.name}`}>{t.factors.nfcRemove}</button>
                </form>
              </li>
            ))}
          </ul>
        )}
        <a class="button" href={`${d.base}/nfc`}>{t.factors.nfcAdd}</a>
      </div>
    </>
  );
}

/** The sections for the account page (ui/pages/account.tsx), built where the data is read. */
export function accountFactorsSections(d: AccountFactorsData): VNode {
  return <AccountFactors d={d} />;
}

/** The field the authenticator app's removal asks for (on its confirmation page). */
export function otpRemoveFields(t: Strings): VNode {
  return <Field id="remove-otp-code" name="code" label={t.factors.otpRemoveCode} autocomplete="one-time-code" inputmode="numeric" hint={t.factors.otpRemoveHint} autofocus />;
}

/** An account-page context: its base is /t/<slug>/account. */
export type AccountPageShell = PageContext;

export function totpEnrolPage(d: AccountPageShell & { qrSvg: string; secret: string; error?: string | undefined }): string {
  const { t } = d;
  const grouped = d.secret.replace(/(.{4})/g, '$1 ').trim();
  return renderDocument(
    <FlowPage ctx={d} title={t.factors.otpEnrolTitle}>
      <Card>
        <h1>{t.factors.otpEnrolTitle}</h1>
        <p>{t.factors.otpEnrolIntro}</p>
        {/* The QR code is an SVG the qrcode library drew from the secret: markup of our own making. */}
        <figure class="qr" role="img" aria-label={t.factors.otpQrLabel} dangerouslySetInnerHTML={{ __html: d.qrSvg }} />
        <p>{t.factors.otpSecretLabel}: <code id="totp-secret">{grouped}</code></p>
        <form method="post" action={`${d.base}/totp/confirm`} novalidate>
          <CsrfField token={d.csrf} />
          <Field id="code" label={t.stepUp.otp.codeLabel} hint={t.stepUp.otp.codeHint} error={d.error} autocomplete="one-time-code" inputmode="numeric" required autofocus />
          <button type="submit">{t.factors.otpConfirm}</button>
        </form>
        <nav class="links"><p><a href={d.base}>{t.common.cancel}</a></p></nav>
      </Card>
    </FlowPage>,
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
  return renderDocument(
    <FlowPage ctx={d} title={t.factors.nfcEnrolTitle}>
      <Card>
        <h1>{t.factors.nfcEnrolTitle}</h1>
        <p>{t.factors.nfcEnrolIntro}</p>
        <StatusRegion message={d.formError} />
        <form method="post" action={`${d.base}/nfc`} novalidate>
          <CsrfField token={d.csrf} />
          <Field id="name" label={t.factors.nfcNameLabel} hint={t.factors.nfcNameHint} value={values.name} error={errors.name} required />
          <Field id="uid" label={t.factors.nfcUidLabel} hint={t.factors.nfcUidHint} value={values.uid} error={errors.uid} autocomplete="off" required />
          <Field id="metaReadKey" label={t.factors.nfcMetaKeyLabel} hint={t.factors.nfcKeyHint} error={errors.metaReadKey} autocomplete="off" required />
          <Field id="fileReadKey" label={t.factors.nfcFileKeyLabel} hint={t.factors.nfcKeyHint} error={errors.fileReadKey} autocomplete="off" required />
          <Field id="tap" label={t.factors.nfcTapLabel} hint={t.factors.nfcTapHint} type="url" value={values.tap} error={errors.tap} autocomplete="off" required />
          <button type="submit">{t.factors.nfcSubmit}</button>
        </form>
        <nav class="links"><p><a href={d.base}>{t.common.cancel}</a></p></nav>
      </Card>
    </FlowPage>,
  );
}
