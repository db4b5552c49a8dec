// The form of an application's settings, for a new one and for editing one: redirect URIs, grant
// types, authentication, first party, minimum acr, refresh grace. The form checks its body with the
// API's own schemas (src/admin/client-settings.ts) before sending, on submit and when a changed field
// is left; that and the server's problem+json are shown next to the field they name.
import { useState } from 'preact/hooks';
import type { ClientBody, ClientSummary, Problem } from '../api.ts';
import { createClientBody, replaceClientBody } from '../../../../src/admin/client-settings.ts';
import { Field, FieldError, FormProblem, fieldProps, lines, useChecked } from '../forms.tsx';
import { Button } from '../../../../ui/components/forms.tsx';
import { format, t } from '../context.ts';

const GRANTS = [
  { value: 'authorization_code', label: t.clientForm.grantAuthorizationCode },
  { value: 'refresh_token', label: t.clientForm.grantRefreshToken },
  { value: 'client_credentials', label: t.clientForm.grantClientCredentials },
  { value: 'urn:ietf:params:oauth:grant-type:device_code', label: t.clientForm.grantDeviceCode },
] as const;
const AUTH_METHODS = [
  { value: 'client_secret_basic', label: t.clientForm.authBasic },
  { value: 'client_secret_post', label: t.clientForm.authPost },
  { value: 'private_key_jwt', label: t.clientForm.authPrivateKeyJwt },
  { value: 'none', label: t.clientForm.authNone },
] as const;
export const KNOWN_ACRS = ['urn:facet:acr:passkey', 'urn:facet:acr:passkey+otp', 'urn:facet:acr:passkey+nfc', 'urn:facet:acr:passkey+face', 'urn:facet:acr:high'];
const FIELDS = ['clientId', 'name', 'redirectUris', 'postLogoutRedirectUris', 'grantTypes', 'authMethod', 'firstParty', 'minimumAcr', 'refreshGraceSeconds', 'jwksUri', 'jwks'] as const;

type Grant = (typeof GRANTS)[number]['value'];

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** The form's starting values: an existing client, a body kept across a step-up, or a blank one. */
export function initialValues(from?: Partial<ClientSummary> | ClientBody): ClientBody {
  return {
    name: from?.name ?? '',
    redirectUris: from?.redirectUris ?? [],
    postLogoutRedirectUris: from?.postLogoutRedirectUris ?? [],
    grantTypes: (from?.grantTypes as Grant[] | undefined) ?? ['authorization_code', 'refresh_token'],
    authMethod: (from?.authMethod as ClientBody['authMethod']) ?? 'client_secret_basic',
    firstParty: from?.firstParty ?? false,
    minimumAcr: from?.minimumAcr ?? null,
    refreshGraceSeconds: from?.refreshGraceSeconds ?? null,
    jwksUri: from?.jwksUri ?? null,
    jwks: (from?.jwks as ClientBody['jwks']) ?? null,
    ...(from && 'clientId' in from && from.clientId && !('readOnly' in from) ? { clientId: from.clientId } : {}),
  };
}

export function ClientForm({ initial, isNew, submitLabel, problem: serverProblem, onSubmit }: { initial: ClientBody; isNew: boolean; submitLabel: string; problem: Problem | undefined; onSubmit: (body: ClientBody) => void }) {
  const { problem, check, formProps } = useChecked(isNew ? createClientBody : replaceClientBody, serverProblem);
  const [values, setValues] = useState<ClientBody>(initial);
  const [redirects, setRedirects] = useState((initial.redirectUris ?? []).join('\n'));
  const [logouts, setLogouts] = useState((initial.postLogoutRedirectUris ?? []).join('\n'));
  const [grace, setGrace] = useState(initial.refreshGraceSeconds === null || initial.refreshGraceSeconds === undefined ? '' : String(initial.refreshGraceSeconds));
  const [jwksText, setJwksText] = useState(initial.jwks ? JSON.stringify(initial.jwks, null, 2) : '');
  const keyed = values.authMethod === 'private_key_jwt';
  const set = <K extends keyof ClientBody>(key: K, value: ClientBody[K]) => setValues({ ...values, [key]: value });
  const text = (e: Event) => (e.target as HTMLInputElement).value;

  /** The body as the API takes it. */
  function bodyOf(): ClientBody {
    const body: ClientBody = {
      ...values,
      name: values.name.trim(),
      redirectUris: lines(redirects),
      postLogoutRedirectUris: lines(logouts),
      minimumAcr: values.minimumAcr?.trim() ? values.minimumAcr.trim() : null,
      // Not a number: checked as typed, so the schema's message lands beside the field.
      refreshGraceSeconds: grace.trim() === '' ? null : /^-?\d+$/.test(grace.trim()) ? Number(grace.trim()) : (grace.trim() as unknown as number),
      jwksUri: keyed && values.jwksUri?.trim() ? values.jwksUri.trim() : null,
      // Not JSON: checked as typed, so the schema's message lands beside the field.
      jwks: keyed && jwksText.trim() ? (parseJson(jwksText) as ClientBody['jwks']) : null,
    };
    if (!isNew || !body.clientId?.trim()) delete body.clientId;
    return body;
  }

  return (
    <form
      class="client-form"
      noValidate
      {...formProps(bodyOf)}
      onSubmit={(event) => {
        event.preventDefault();
        const body = bodyOf();
        if (check(body, event.currentTarget as HTMLFormElement)) onSubmit(body);
      }}
    >
      <FormProblem problem={problem} fields={FIELDS} />
      {isNew && (
        <Field id="client-id" name="clientId" label={t.clientForm.clientId} hint={t.clientForm.clientIdHint} problem={problem}>
          <input id="client-id" value={values.clientId ?? ''} onInput={(e) => set('clientId', text(e))} autocomplete="off" {...fieldProps(problem, 'clientId', 'client-id')} />
        </Field>
      )}
      <Field id="client-name" name="name" label={t.clientForm.name} hint={t.clientForm.nameHint} problem={problem}>
        <input id="client-name" required maxLength={100} value={values.name} onInput={(e) => set('name', text(e))} {...fieldProps(problem, 'name', 'client-name')} />
      </Field>
      <fieldset class="field" {...(fieldProps(problem, 'grantTypes', 'client-grants')['aria-invalid'] ? { 'aria-describedby': 'client-grants-error' } : {})}>
        <legend>{t.clientForm.grantTypes}</legend>
        {GRANTS.map((g) => (
          <label class="check" key={g.value}>
            <input
              type="checkbox"
              checked={values.grantTypes.includes(g.value)}
              onChange={(e) => {
                const on = (e.target as HTMLInputElement).checked;
                set('grantTypes', on ? [...values.grantTypes, g.value] : values.grantTypes.filter((v) => v !== g.value));
              }}
            />{' '}
            {g.label}
          </label>
        ))}
        <FieldError problem={problem} name="grantTypes" id="client-grants" />
      </fieldset>
      <Field id="client-redirects" name="redirectUris" label={t.clientForm.redirectUris} hint={t.clientForm.redirectUrisHint} problem={problem}>
        <textarea id="client-redirects" rows={3} value={redirects} onInput={(e) => setRedirects(text(e))} {...fieldProps(problem, 'redirectUris', 'client-redirects')} />
      </Field>
      <Field id="client-logouts" name="postLogoutRedirectUris" label={t.clientForm.logoutUris} hint={t.clientForm.logoutUrisHint} problem={problem}>
        <textarea id="client-logouts" rows={2} value={logouts} onInput={(e) => setLogouts(text(e))} {...fieldProps(problem, 'postLogoutRedirectUris', 'client-logouts')} />
      </Field>
      <Field id="client-auth" name="authMethod" label={t.clientForm.authMethod} problem={problem}>
        <select id="client-auth" value={values.authMethod} onChange={(e) => set('authMethod', (e.target as HTMLSelectElement).value as ClientBody['authMethod'])} {...fieldProps(problem, 'authMethod', 'client-auth')}>
          {AUTH_METHODS.map((m) => (
            <option key={m.value} value={m.value}>
              {m.label}
            </option>
          ))}
        </select>
      </Field>
      {keyed && (
        <>
          <Field id="client-jwks-uri" name="jwksUri" label={t.clientForm.jwksUri} hint={t.clientForm.jwksUriHint} problem={problem}>
            <input id="client-jwks-uri" type="url" value={values.jwksUri ?? ''} onInput={(e) => set('jwksUri', text(e))} autocomplete="off" {...fieldProps(problem, 'jwksUri', 'client-jwks-uri')} />
          </Field>
          <Field id="client-jwks" name="jwks" label={t.clientForm.jwks} hint={format(t.clientForm.jwksHint, { example: '{"keys": [ … ]}' })} problem={problem}>
            <textarea id="client-jwks" rows={4} value={jwksText} onInput={(e) => setJwksText(text(e))} {...fieldProps(problem, 'jwks', 'client-jwks')} />
          </Field>
        </>
      )}
      <div class="field">
        <label class="check">
          <input type="checkbox" checked={values.firstParty} onChange={(e) => set('firstParty', (e.target as HTMLInputElement).checked)} /> {t.clientForm.firstParty}
        </label>
      </div>
      <Field id="client-acr" name="minimumAcr" label={t.clientForm.minimumAcr} hint={t.clientForm.minimumAcrHint} problem={problem}>
        <input id="client-acr" list="client-acr-values" value={values.minimumAcr ?? ''} onInput={(e) => set('minimumAcr', text(e))} autocomplete="off" {...fieldProps(problem, 'minimumAcr', 'client-acr')} />
        <datalist id="client-acr-values">
          {KNOWN_ACRS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
      </Field>
      <Field id="client-grace" name="refreshGraceSeconds" label={t.clientForm.grace} hint={t.clientForm.graceHint} problem={problem}>
        <input id="client-grace" inputMode="numeric" value={grace} onInput={(e) => setGrace(text(e))} {...fieldProps(problem, 'refreshGraceSeconds', 'client-grace')} />
      </Field>
      <Button>{submitLabel}</Button>
    </form>
  );
}
