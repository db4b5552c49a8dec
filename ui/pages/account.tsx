// The account page: sections for security (passkeys, authenticator app, NFC cards, face, recovery
// codes), devices and sessions, connected apps and activity; the confirmation before a destructive
// change; and the fresh-proof page. Every form works without JavaScript.
import type { ComponentChildren, VNode } from 'preact';
import { Card, CsrfField, Field, StatusRegion, webauthnMessagesJson } from '../components/forms.tsx';
import { renderDocument } from '../render.ts';
import { FlowPage, type PageContext } from './interaction.tsx';
import { fill } from '../../views/strings/index.ts';

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
  /** Authenticator app and NFC cards (ui/pages/step-up.tsx AccountFactors). */
  factorSections?: VNode | undefined;
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
function When({ at }: { at: Date }) {
  return <time datetime={at.toISOString()} data-local="">{minute(at)}</time>;
}

/** A string with one {placeholder} filled by an element (a <time>), the rest text. */
function fillWith(template: string, key: string, value: ComponentChildren): ComponentChildren {
  const [before, after = ''] = template.split(`{${key}}`);
  return <>{before}{value}{after}</>;
}

export function deviceLabel(t: PageContext['t'], device: { browser: string | undefined; os: string | undefined }): string {
  if (device.browser && device.os) return fill(t.account.deviceName, { browser: device.browser, os: device.os });
  return device.browser ?? device.os ?? t.account.unknownDevice;
}

/** A POST form with the CSRF field and one button: sign out a session, revoke an app, … */
function ActionForm({ action, csrf, children }: { action: string; csrf: string; children: ComponentChildren }) {
  return (
    <form method="post" action={action}>
      <CsrfField token={csrf} />
      {children}
    </form>
  );
}

function Group({ id, heading, headingId, class: extra, children, ...data }: { id?: string; heading: string; headingId: string; class?: string; children?: ComponentChildren; [data: `data-${string}`]: string | undefined }) {
  return (
    <div class={extra ? `card ${extra}` : 'card'} role="group" aria-labelledby={headingId} id={id} {...data}>
      <h3 id={headingId}>{heading}</h3>
      {children}
    </div>
  );
}

function Passkeys({ d }: { d: AccountPageData }) {
  const { t } = d;
  const onlyOne = d.passkeys.length <= 1;
  return (
    <Group
      heading={t.account.passkeys}
      headingId="passkeys-heading"
      data-page="register"
      data-options-url={`${d.base}/passkeys/options`}
      data-verify-url={`${d.base}/passkeys/verify`}
      data-csrf={d.csrf}
      data-msg-cancelled={t.errors.browserCancelled}
      data-msg-working={t.common.working}
      data-msg-generic={t.errors.generic}
      data-messages={webauthnMessagesJson(t)}
    >
      <ul class="passkeys" id="passkeys">
        {d.passkeys.map((p) => (
          <li data-passkey-id={p.id}>
            <strong class="passkey-name">{p.name}</strong>
            {p.provider && p.provider !== p.name ? <> <span class="detail">{fill(t.account.provider, { provider: p.provider })}</span></> : null}
            <p class="detail">
              {fill(t.account.created, { date: day(p.createdAt) })}, {p.lastUsedAt ? fillWith(t.account.lastUsed, 'date', <When at={p.lastUsedAt} />) : t.account.neverUsed} · {p.backupEligible ? t.account.synced : t.account.deviceBound}
            </p>
            <div class="row-actions">
              <details class="rename">
                <summary>{t.account.renameSummary}<span class="visually-hidden"> {p.name}</span></summary>
                <form method="post" action={`${d.base}/passkeys/${p.id}/rename`} class="inline">
                  <CsrfField token={d.csrf} />
                  <Field id={`name-${p.id}`} name="name" label={fill(t.account.renameLabel, { name: p.name })} value={p.name} required />
                  <button type="submit" class="secondary">{t.account.rename}</button>
                </form>
              </details>
              {onlyOne ? null : <a class="button secondary small" href={`${d.base}/passkeys/${p.id}/remove`} aria-label={`${t.account.remove} ${p.name}`}>{t.account.remove}</a>}
            </div>
            {onlyOne ? <p class="hint">{t.account.lastPasskey}</p> : null}
          </li>
        ))}
      </ul>
      <StatusRegion />
      <button type="button" id="create-passkey">{t.account.add}</button>
      <noscript><p class="error">{t.common.needsJs}</p></noscript>
    </Group>
  );
}

function FaceSection({ d, face }: { d: AccountPageData; face: { enrolled: boolean; available: boolean } }) {
  const { t } = d;
  return (
    <Group id="face" heading={t.face.accountHeading} headingId="face-heading">
      <p class="detail">{t.face.accountIntro}</p>
      <p>{face.enrolled ? t.face.enrolled : t.face.notEnrolled}</p>
      {face.enrolled ? (
        <>
          <p class="hint" id="face-remove-hint">{t.face.removeHint}</p>
          <a class="button secondary" href={`${d.base}/face/delete`} aria-describedby="face-remove-hint">{t.face.remove}</a>
        </>
      ) : face.available ? (
        <p><a href={`${d.base}/face`} class="button">{t.face.add}</a></p>
      ) : (
        <p class="hint">{t.face.unavailable}</p>
      )}
    </Group>
  );
}

function Section({ id, heading, children }: { id: string; heading: string; children?: ComponentChildren }) {
  return (
    <section id={id} class="account-section" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{heading}</h2>
      {children}
    </section>
  );
}

export function accountPage(d: AccountPageData): string {
  const { t } = d;
  const sections = t.account.sections;
  const sessions = d.sessions ?? [];
  const apps = d.apps ?? [];
  const changes = d.securityChanges ?? [];
  return renderDocument(
    <FlowPage ctx={d} title={t.account.title} scripts={['/assets/build/passkey.js', '/assets/build/local-time.js']}>
      <Card class="account-head">
        <h1>{t.account.heading}</h1>
        <p class="detail">{fill(t.account.signedInAs, { user: d.userName })}</p>
        {d.notice ? <p class="notice" role="status">{d.notice}</p> : null}
        <StatusRegion message={d.error} id="account-status" />
        <nav aria-label={t.account.sectionsLabel} class="section-nav">
          <ul>
            <li><a href="#security">{sections.security}</a></li>
            <li><a href="#devices">{sections.devices}</a></li>
            <li><a href="#apps">{sections.apps}</a></li>
            <li><a href="#activity">{sections.activity}</a></li>
          </ul>
        </nav>
      </Card>
      <Section id="security" heading={sections.security}>
        <Passkeys d={d} />
        {d.factorSections ?? null}
        {d.face ? <FaceSection d={d} face={d.face} /> : null}
        <Group heading={t.account.recoveryCodes} headingId="recovery-heading">
          <p>{fill(t.account.recoveryRemaining, { count: d.recoveryRemaining }, t.lang)}</p>
          <ActionForm action={`${d.base}/recovery-codes`} csrf={d.csrf}>
            <p class="hint" id="regenerate-hint">{t.securityChanges.regenerateHint}</p>
            <button type="submit" class="secondary" aria-describedby="regenerate-hint">{t.securityChanges.regenerate}</button>
          </ActionForm>
        </Group>
      </Section>
      <Section id="devices" heading={sections.devices}>
        <Group heading={t.account.recentSignIns} headingId="signins-heading">
          {d.signIns.length === 0 ? (
            <p>{t.account.noSignIns}</p>
          ) : (
            <ul id="sign-ins" class="rows">
              {d.signIns.map((s) => (
                <li class={s.thisDevice ? 'this-device' : undefined} data-factor={s.factor || undefined}>
                  <strong>{deviceLabel(t, s.device)}</strong>
                  {s.thisDevice ? <> <span class="badge">{t.account.thisDevice}</span></> : null}
                  <br />
                  <span class="detail"><When at={s.at} /> · {s.method}</span>
                </li>
              ))}
            </ul>
          )}
        </Group>
        <Group heading={t.account.sessionsHeading} headingId="sessions-heading">
          {sessions.length === 0 ? (
            <p>{t.account.sessionsNone}</p>
          ) : (
            <ul id="sessions" class="rows">
              {sessions.map((s, i) => (
                <li>
                  <span>
                    {s.since ? fillWith(t.account.sessionSince, 'date', <When at={s.since} />) : null}
                    {s.apps.length ? <><br /><span class="detail">{fill(t.account.sessionApps, { apps: s.apps.join(', ') })}</span></> : null}
                  </span>
                  <ActionForm action={`${d.base}/sessions/${s.uid}/sign-out`} csrf={d.csrf}>
                    <button type="submit" class="secondary small" aria-label={`${t.account.sessionSignOut} ${i + 1}`}>{t.account.sessionSignOut}</button>
                  </ActionForm>
                </li>
              ))}
            </ul>
          )}
          <ActionForm action={`${d.base}/sign-out`} csrf={d.csrf}>
            <button type="submit" class="secondary">{t.account.signOut}</button>
          </ActionForm>
        </Group>
        <Group class="danger" heading={t.account.dangerHeading} headingId="danger-heading">
          <p class="hint" id="everywhere-hint">{t.account.signOutEverywhereHint}</p>
          <a class="button danger-outline" href={`${d.base}/sign-out-everywhere`} aria-describedby="everywhere-hint">{t.account.signOutEverywhere}</a>
        </Group>
      </Section>
      <Section id="apps" heading={sections.apps}>
        <div class="card">
          <p class="detail">{t.account.appsIntro}</p>
          {apps.length === 0 ? (
            <p>{t.account.appsNone}</p>
          ) : (
            <ul id="connected-apps" class="rows">
              {apps.map((a) => (
                <li data-client-id={a.clientId}>
                  <span>
                    <strong>{a.name}</strong>
                    <br />
                    <span class="detail">{fill(t.account.appSince, { date: day(a.since) })}{a.access.length ? ` · ${a.access.join(', ')}` : ''}</span>
                  </span>
                  <ActionForm action={`${d.base}/apps/${encodeURIComponent(a.clientId)}/revoke`} csrf={d.csrf}>
                    <button type="submit" class="secondary small" aria-label={`${t.account.appRevoke}: ${a.name}`}>{t.account.appRevoke}</button>
                  </ActionForm>
                </li>
              ))}
            </ul>
          )}
        </div>
      </Section>
      <Section id="activity" heading={sections.activity}>
        <Group heading={t.securityChanges.heading} headingId="changes-heading">
          {changes.length === 0 ? (
            <p>{t.securityChanges.none}</p>
          ) : (
            <ul id="security-changes" class="rows">
              {changes.map((c) => (
                <li data-type={c.type}>
                  <span>
                    {t.securityChanges.types[c.type] ?? c.type}
                    {c.detail ? <> <span class="detail">· {c.detail}</span></> : null}
                    {c.proof ? <> <span class="detail">({fill(t.securityChanges.proof, { factor: t.securityChanges.factors[c.proof] ?? c.proof })})</span></> : null}
                    <br />
                    <span class="detail"><When at={c.at} /></span>
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Group>
      </Section>
    </FlowPage>,
  );
}

/**
 * A confirmation before a destructive change (remove a passkey, the authenticator app, the face
 * check; sign out everywhere): what happens, a POST form doing it, and a way back. No script needed.
 */
export function confirmPage(
  d: PageContext & { heading: string; text: string; action: string; button: string; fields?: VNode | undefined; danger?: boolean },
): string {
  const { t } = d;
  return renderDocument(
    <FlowPage ctx={d} title={t.account.confirmTitle}>
      <Card page="confirm">
        <h1>{d.heading}</h1>
        <p>{d.text}</p>
        <form method="post" action={d.action} novalidate>
          <CsrfField token={d.csrf} />
          {d.fields ?? null}
          <div class="actions">
            <button type="submit" class={d.danger === false ? '' : 'danger'} id="confirm-button">{d.button}</button>
            <a class="button secondary" href={d.base}>{t.account.confirmCancel}</a>
          </div>
        </form>
      </Card>
    </FlowPage>,
  );
}

/** /account/verify: the fresh proofs that allow a change to how the account signs in. */
export function freshProofPage(d: PageContext & { accepted: string[]; next: string; removing?: string | undefined; error?: string | undefined }): string {
  const { t } = d;
  const hidden = (
    <>
      <CsrfField token={d.csrf} />
      <input type="hidden" name="next" value={d.next} />
      {d.removing ? <input type="hidden" name="removing" value={d.removing} /> : null}
    </>
  );
  const option = (factor: string) => {
    switch (factor) {
      case 'otp':
        return (
          <li id="proof-otp">
            <form method="post" action={`${d.base}/verify/otp`} novalidate>
              {hidden}
              <Field id="code" label={t.freshProof.otp} autocomplete="one-time-code" inputmode="numeric" required autofocus />
              <button type="submit">{t.freshProof.otpSubmit}</button>
            </form>
          </li>
        );
      case 'nfc':
        return (
          <li id="proof-nfc">
            <form method="post" action={`${d.base}/verify/nfc`} novalidate>
              {hidden}
              <Field id="tap" label={t.freshProof.nfc} autocomplete="off" required />
              <button type="submit">{t.freshProof.nfcSubmit}</button>
            </form>
          </li>
        );
      case 'passkey':
        return <li id="proof-passkey"><a class="button" href={`${d.base}/sign-in`}>{t.freshProof.passkey}</a></li>;
      case 'recovery_code':
        return <li id="proof-recovery"><a href={`${d.base}/sign-in/recovery`}>{t.freshProof.recovery_code}</a></li>;
      case 'face':
        return <li id="proof-face"><a class="button" href={`${d.base}/verify/face?next=${encodeURIComponent(d.next)}${d.removing ? `&removing=${d.removing}` : ''}`}>{t.freshProof.face}</a></li>;
      default:
        return null;
    }
  };
  return renderDocument(
    <FlowPage ctx={d} title={t.freshProof.title}>
      <Card>
        <h1>{t.freshProof.heading}</h1>
        <p>{t.freshProof.intro}</p>
        <StatusRegion message={d.error} />
        <ul class="proofs">{d.accepted.map(option)}</ul>
        <nav class="links"><p><a href={d.base}>{t.common.back}</a></p></nav>
      </Card>
    </FlowPage>,
  );
}
