// The pages oidc-provider asks Facet to render (src/oidc/provider-pages.ts): RP-initiated logout
// and the device flow's user-code pages, in the shared Layout with the catalogue's strings. The
// forms post back to oidc-provider with the hidden fields it generated.
import { Layout, Message } from '../components/layout.tsx';
import { Card } from '../components/forms.tsx';
import { renderDocument } from '../render.ts';
import { fill, type Strings } from '../../views/strings/index.ts';

type ProviderStrings = Strings['providerPages'];
interface Shell {
  tenantName: string;
  lang: string;
}

/** A form oidc-provider built: its action and hidden fields (values as text, not yet escaped). */
export interface ProviderForm {
  action: string;
  hidden: Array<[string, string]>;
}

function Hidden({ fields }: { fields: Array<[string, string]> }) {
  return <>{fields.map(([name, value]) => <input type="hidden" name={name} value={value} />)}</>;
}

export function providerLogoutPage({ tenantName, lang }: Shell, t: ProviderStrings, form: ProviderForm): string {
  return renderDocument(
    <Layout title={t.logoutTitle} tenantName={tenantName} lang={lang}>
      <Card>
        <h1>{t.logoutHeading}</h1>
        <p>{t.logoutQuestion}</p>
        <form id="op.logoutForm" method="post" action={form.action} class="actions">
          <Hidden fields={form.hidden} />
          <button type="submit" name="logout" value="yes" autofocus>{t.logoutYes}</button>
          <button type="submit" class="secondary">{t.logoutNo}</button>
        </form>
      </Card>
    </Layout>,
  );
}

export function providerUserCodePage({ tenantName, lang }: Shell, t: ProviderStrings, form: ProviderForm, { prefilled, error }: { prefilled?: string | undefined; error?: string | undefined }): string {
  return renderDocument(
    <Layout title={t.deviceTitle} tenantName={tenantName} lang={lang}>
      <Card>
        <h1>{t.deviceHeading}</h1>
        <p>{t.deviceIntro}</p>
        <form id="op.deviceInputForm" method="post" action={form.action} novalidate>
          <Hidden fields={form.hidden} />
          <div class="field">
            <label for="user_code">{t.deviceCodeLabel}</label>
            <input
              id="user_code"
              name="user_code"
              type="text"
              value={prefilled || undefined}
              autocomplete="off"
              autocapitalize="characters"
              spellcheck={false}
              autofocus
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? 'user_code-error' : undefined}
            />
            {error ? <p class="error" id="user_code-error" role="alert">{error}</p> : null}
          </div>
          <button type="submit">{t.continue}</button>
        </form>
      </Card>
    </Layout>,
  );
}

export function providerUserCodeConfirmPage({ tenantName, lang }: Shell, t: ProviderStrings, form: ProviderForm, { clientName, userCode }: { clientName: string; userCode: string }): string {
  return renderDocument(
    <Layout title={t.deviceConfirmTitle} tenantName={tenantName} lang={lang}>
      <Card>
        <h1>{t.deviceConfirmHeading}</h1>
        <p>{fill(t.deviceConfirmQuestion, { client: clientName })}</p>
        <p class="code" aria-label={t.deviceCodeLabel}><strong>{userCode}</strong></p>
        <p class="hint">{t.deviceConfirmHint}</p>
        <form id="op.deviceConfirmForm" method="post" action={form.action} class="actions">
          <Hidden fields={form.hidden} />
          <button type="submit" autofocus>{t.continue}</button>
          <button type="submit" name="abort" value="yes" class="secondary">{t.deviceAbort}</button>
        </form>
      </Card>
    </Layout>,
  );
}

export function providerMessagePage({ tenantName, lang }: Shell, { title, heading, message }: { title: string; heading: string; message: string }): string {
  return renderDocument(
    <Layout title={title} tenantName={tenantName} lang={lang}>
      <Message heading={heading} message={message} />
    </Layout>,
  );
}
