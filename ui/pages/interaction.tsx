// The sign-in, sign-up, passkey, recovery and consent pages. Text comes from views/strings;
// scripts find their endpoints in data- attributes (no inline script, CSP-friendly). Rendered on
// the server; each works without JavaScript except the passkey ceremony itself (it says so).
import type { ComponentChildren } from 'preact';
import { Layout } from '../components/layout.tsx';
import { CancelForm, Card, CsrfField, Field, StatusRegion, webauthnMessagesJson } from '../components/forms.tsx';
import { renderDocument } from '../render.ts';
import { fill, type Strings } from '../../views/strings/index.ts';

export interface PageContext {
  t: Strings;
  tenantName: string;
  logoUrl?: string | undefined;
  nonce: string;
  csrf: string;
  /** URL prefix of the flow's endpoints: /t/<slug>/interaction/<uid> or /t/<slug>/account/sign-in. */
  base: string;
}

export const PASSKEY_SCRIPT = '/assets/build/passkey.js';

/** A page of the flow: the shell with the tenant's name, logo, colours and language. */
export function FlowPage({ ctx, title, scripts = [], children }: { ctx: PageContext; title: string; scripts?: string[]; children?: ComponentChildren }) {
  return (
    <Layout title={title} tenantName={ctx.tenantName} {...(ctx.logoUrl ? { logoUrl: ctx.logoUrl } : {})} nonce={ctx.nonce} scripts={scripts} lang={ctx.t.lang} base={ctx.base} skipLabel={ctx.t.common.skipToContent}>
      {children}
    </Layout>
  );
}

/** The strings a passkey page script shows (data- attributes on its card). */
function passkeyMessages(t: Strings) {
  return { 'data-msg-cancelled': t.errors.browserCancelled, 'data-msg-working': t.common.working, 'data-msg-generic': t.errors.generic, 'data-messages': webauthnMessagesJson(t) };
}

function NeedsJs({ t }: { t: Strings }) {
  return (
    <noscript>
      <p class="error">{t.common.needsJs}</p>
    </noscript>
  );
}

export function signInPage(
  ctx: PageContext,
  { clientName, username, error, notice, signUpAllowed }: { clientName?: string | undefined; username?: string | undefined; error?: string | undefined; notice?: string | undefined; signUpAllowed: boolean },
): string {
  const { t } = ctx;
  return renderDocument(
    <FlowPage ctx={ctx} title={t.signIn.title} scripts={[PASSKEY_SCRIPT]}>
      <section class="card" data-page="sign-in" data-options-url={`${ctx.base}/passkey/options`} data-verify-url={`${ctx.base}/passkey/verify`} data-csrf={ctx.csrf} {...passkeyMessages(t)} data-msg-username={t.signIn.usernameRequired}>
        <h1>{fill(t.signIn.heading, { tenant: ctx.tenantName })}</h1>
        {clientName ? <p class="detail">{fill(t.signIn.forClient, { client: clientName })}</p> : null}
        {notice ? <p class="notice" role="status" id="notice">{notice}</p> : null}
        <StatusRegion message={error} />
        <button type="button" id="passkey-button">{t.signIn.passkeyButton}</button>
        <form method="post" action={`${ctx.base}/identify`} id="username-form" novalidate>
          <CsrfField token={ctx.csrf} />
          <Field id="username" label={t.signIn.usernameLabel} value={username} autocomplete="username webauthn" hint={t.signIn.usernameHint} />
          <button type="submit" class="secondary">{t.signIn.continueWithUsername}</button>
        </form>
        <p class="hint" id="other-device">{t.signIn.otherDevice}</p>
        <NeedsJs t={t} />
        <nav class="links">
          {signUpAllowed ? <p>{t.signIn.noAccount} <a href={`${ctx.base}/signup`}>{t.signIn.signUpLink}</a></p> : null}
          <p><a href={`${ctx.base}/recovery`}>{t.signIn.recoveryLink}</a></p>
        </nav>
        {clientName ? <CancelForm action={`${ctx.base}/cancel`} csrf={ctx.csrf} label={fill(t.signIn.cancel, { client: clientName })} /> : null}
      </section>
    </FlowPage>,
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
  return renderDocument(
    <FlowPage ctx={ctx} title={t.signUp.title}>
      <Card>
        <h1>{fill(t.signUp.heading, { tenant: ctx.tenantName })}</h1>
        <StatusRegion message={formError} />
        <form method="post" action={`${ctx.base}/signup`} novalidate>
          <CsrfField token={ctx.csrf} />
          <Field id="username" label={t.signUp.usernameLabel} value={values.username} autocomplete="username" hint={t.signUp.usernameHint} error={errors.username} required autofocus={focus === 'username'} />
          <Field id="email" label={t.signUp.emailLabel} type="email" value={values.email} autocomplete="email" error={errors.email} required autofocus={focus === 'email'} />
          <Field id="displayName" label={t.signUp.displayNameLabel} value={values.displayName} autocomplete="name" hint={t.signUp.displayNameHint} error={errors.displayName} autofocus={focus === 'displayName'} />
          {inviteField ? (
            <Field id="invite" label={t.signUp.inviteLabel} value={values.invite} hint={t.signUp.inviteHint} error={errors.invite} required autofocus={focus === 'invite'} />
          ) : values.invite ? (
            <>
              <input type="hidden" name="invite" value={values.invite} />
              {errors.invite ? <p class="error" role="alert">{errors.invite}</p> : null}
            </>
          ) : null}
          <button type="submit">{t.signUp.submit}</button>
        </form>
        <nav class="links"><p><a href={ctx.base}>{t.signUp.haveAccount}</a></p></nav>
      </Card>
    </FlowPage>,
  );
}

export function createPasskeyPage(ctx: PageContext, { mode }: { mode: 'signup' | 'add' }): string {
  const { t } = ctx;
  return renderDocument(
    <FlowPage ctx={ctx} title={t.createPasskey.title} scripts={[PASSKEY_SCRIPT]}>
      <section class="card" data-page="register" data-options-url={`${ctx.base}/register/options`} data-verify-url={`${ctx.base}/register/verify`} data-csrf={ctx.csrf} {...passkeyMessages(t)}>
        <h1>{mode === 'signup' ? t.createPasskey.heading : t.createPasskey.addHeading}</h1>
        <p>{mode === 'signup' ? t.createPasskey.intro : t.createPasskey.addIntro}</p>
        <StatusRegion />
        <button type="button" id="create-passkey">{t.createPasskey.button}</button>
        <p class="hint" id="other-device">{t.createPasskey.otherDevice}</p>
        <NeedsJs t={t} />
      </section>
    </FlowPage>,
  );
}

export function recoveryCodesPage(ctx: PageContext, { codes, doneHref }: { codes: string[]; doneHref?: string }): string {
  const { t } = ctx;
  const file = `${fill(t.recoveryCodes.fileHeader, { tenant: ctx.tenantName, date: new Date().toISOString().slice(0, 10) })}\n\n${codes.join('\n')}\n`;
  return renderDocument(
    <FlowPage ctx={ctx} title={t.recoveryCodes.title} scripts={['/assets/build/recovery-codes.js']}>
      <Card>
        <h1>{t.recoveryCodes.heading}</h1>
        <p>{t.recoveryCodes.intro}</p>
        <ol class="codes" id="recovery-codes">
          {codes.map((code) => <li><code>{code}</code></li>)}
        </ol>
        <div class="actions code-actions" data-page="recovery-codes" data-msg-copied={t.recoveryCodes.copied} data-msg-copy-failed={t.recoveryCodes.copyFailed}>
          <a class="button secondary" id="codes-download" download={`${ctx.tenantName.replace(/[^\w.-]+/g, '-').toLowerCase()}-recovery-codes.txt`} href={`data:text/plain;charset=utf-8,${encodeURIComponent(file)}`}>
            {t.recoveryCodes.download}
          </a>
          <button type="button" class="secondary" id="codes-copy" hidden>{t.recoveryCodes.copy}</button>
          <button type="button" class="secondary" id="codes-print" hidden>{t.recoveryCodes.print}</button>
          <p class="status" id="codes-status" role="status"></p>
        </div>
        {doneHref ? (
          <p><a class="button" href={doneHref}>{t.recoveryCodes.confirm}</a></p>
        ) : (
          <form method="post" action={`${ctx.base}/continue`}>
            <CsrfField token={ctx.csrf} />
            <button type="submit">{t.recoveryCodes.confirm}</button>
          </form>
        )}
      </Card>
    </FlowPage>,
  );
}

export function requirementsPage(ctx: PageContext, { clientName, description, newAccount = true }: { clientName: string; description: string; newAccount?: boolean }): string {
  const { t } = ctx;
  const accountBase = ctx.base.replace(/\/interaction\/[^/]+$/, '/account');
  return renderDocument(
    <FlowPage ctx={ctx} title={t.requirements.title}>
      <Card>
        <h1>{fill(newAccount ? t.requirements.heading : t.requirements.signInHeading, { client: clientName })}</h1>
        <p>{fill(newAccount ? t.requirements.intro : t.requirements.signInIntro, { client: clientName })}</p>
        <p class="detail" id="requirement">{description}</p>
        <p>{fill(t.requirements.next, { client: clientName })}</p>
        <form method="post" action={`${ctx.base}/requirements`}>
          <CsrfField token={ctx.csrf} />
          <button type="submit">{fill(t.requirements.back, { client: clientName })}</button>
        </form>
        <nav class="links"><p><a href={accountBase}>{t.requirements.accountLink}</a></p></nav>
      </Card>
    </FlowPage>,
  );
}

export function recoveryPage(ctx: PageContext, { username, error }: { username?: string | undefined; error?: string | undefined }): string {
  const { t } = ctx;
  return renderDocument(
    <FlowPage ctx={ctx} title={t.recovery.title}>
      <Card>
        <h1>{t.recovery.heading}</h1>
        <p>{t.recovery.intro}</p>
        <form method="post" action={`${ctx.base}/recovery`} novalidate>
          <CsrfField token={ctx.csrf} />
          <Field id="username" label={t.recovery.usernameLabel} value={username} autocomplete="username" required autofocus={!error} />
          <Field id="code" label={t.recovery.codeLabel} autocomplete="one-time-code" hint={t.recovery.codeHint} error={error} required autofocus={Boolean(error)} />
          <button type="submit">{t.recovery.submit}</button>
        </form>
        <nav class="links"><p><a href={ctx.base}>{t.common.back}</a></p></nav>
      </Card>
    </FlowPage>,
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
  return renderDocument(
    <FlowPage ctx={ctx} title={t.consent.title}>
      <Card>
        <h1>{fill(t.consent.heading, { client: clientName })}</h1>
        <p class="detail">{fill(t.consent.signedInAs, { user: userName })}</p>
        <p>{again ? t.consent.scopesAgain : t.consent.scopesIntro}</p>
        <ul class="scopes" id="consent-scopes">
          {scopes.map((s) => <li data-scope={s}>{describe(s)}</li>)}
          {resources.flatMap((r) => r.scopes.map((s) => <li data-scope={s}>{describe(s)} <span class="detail">({r.indicator})</span></li>))}
        </ul>
        {claims.length > 0 ? (
          <>
            <p>{t.consent.claimsIntro}</p>
            <ul class="claims" id="consent-claims">
              {claims.map((c) => <li><code>{c}</code></li>)}
            </ul>
          </>
        ) : null}
        <form method="post" action={`${ctx.base}/consent`} class="actions">
          <CsrfField token={ctx.csrf} />
          <button type="submit" name="decision" value="allow" autofocus>{t.consent.allow}</button>
          <button type="submit" name="decision" value="deny" class="secondary">{t.consent.deny}</button>
        </form>
      </Card>
    </FlowPage>,
  );
}
