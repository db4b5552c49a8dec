// Branding: the tenant's display name, logo and primary colour, with a live preview of the sign-in
// page in light and dark mode. The colour is checked as it is typed with the same contrast rule as
// the server (src/tenancy/brand-color.ts: 4.5:1 against white); the whole body is checked with the
// API's own schema (src/admin/branding-settings.ts) before it is sent, and what that or the server
// refuses is shown beside the field. What the tenant file declares is read-only. Changes need a step-up.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { BrandingAnswer, BrandingBody, Me } from '../api.ts';
import { ConfirmAction, ProblemText, Sentence } from '../components.tsx';
import { api, base, format, number, t } from '../context.ts';
import { Field, FormProblem, fieldProps } from '../forms.tsx';
import { useSettingsFlow } from '../save.ts';
import { brandingBody } from '../../../../src/admin/branding-settings.ts';
import { brandColorProblem, contrastRatio, darkModeShade, MIN_CONTRAST } from '../../../../src/tenancy/brand-color.ts';
import { Button } from '../../../../ui/components/forms.tsx';

const HEX = /^#[0-9a-fA-F]{6}$/;

/** A mock of the sign-in page in the chosen colour; custom properties set through the CSSOM (the CSP allows no style attribute). */
function Preview({ name, logo, color, dark }: { name: string; logo: string; color: string; dark: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = ref.current!;
    box.style.setProperty('--accent', color);
    box.style.setProperty('--accent-text', dark ? darkModeShade(color) : color);
  }, [color, dark]);
  return (
    <div ref={ref} class={`preview ${dark ? 'dark' : 'light'}`} aria-label={format(t.branding.previewLabel, { mode: dark ? 'dark' : 'light' })} role="img">
      <div class="brand">
        {logo && <img class="logo" src={logo} alt="" />}
        <span>{name}</span>
      </div>
      <div class="card">
        <p class="preview-heading">{t.branding.previewSignIn}</p>
        <p class="preview-label">{t.branding.previewUsername}</p>
        <p class="preview-input" />
        <span class="button preview-button">{t.branding.previewPasskey}</span>
        <p>
          <span class="preview-link">{t.branding.previewCreate}</span>
        </p>
      </div>
    </div>
  );
}

export function BrandingPage({ me }: { me: Me }) {
  const page = `${base}/branding`;
  const [name, setName] = useState('');
  const [logo, setLogo] = useState('');
  const [color, setColor] = useState('');
  const isAdmin = me.roles.includes('admin');

  function fill(a: BrandingAnswer, from?: BrandingBody) {
    setName(from?.displayName ?? a.branding.displayName);
    setLogo((from?.logoUrl !== undefined ? from.logoUrl : a.branding.logoUrl) ?? '');
    setColor((from?.primaryColor !== undefined ? from.primaryColor : a.branding.primaryColor) ?? '');
  }
  const { answer, loadProblem, problem: formProblem, clearServerProblem, message, action, closeAction, formProps } = useSettingsFlow({
    page,
    me,
    schema: brandingBody,
    load: api.branding,
    send: api.changeBranding,
    fill,
    saved: t.branding.saved,
    confirm: { title: t.branding.changeTitle, body: t.branding.changeBody, label: t.branding.saveLabel },
  });

  if (!answer) return <section>{loadProblem ? <ProblemText problem={loadProblem} /> : <p role="status">{t.common.loading}</p>}</section>;
  const locked = (field: 'displayName' | 'logoUrl' | 'primaryColor') => !isAdmin || answer.readOnly.includes(field);
  function bodyOf(): BrandingBody {
    const body: BrandingBody = {};
    if (!locked('displayName')) body.displayName = name.trim();
    if (!locked('logoUrl')) body.logoUrl = logo.trim() || null;
    if (!locked('primaryColor')) body.primaryColor = color.trim() || null;
    return body;
  }
  const shown = HEX.test(color) ? color : answer.defaults.primaryColor;
  const ratio = contrastRatio(shown, '#ffffff');
  const twoDigits = (value: number) => number(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // The server's rule (brandColorProblem), said in the console's language.
  const colorIssue = color && HEX.test(color) ? (brandColorProblem(color) ? format(t.branding.lowContrast, { color, ratio: twoDigits(ratio), min: number(MIN_CONTRAST) }) : undefined) : color ? format(t.branding.notAColor, { color }) : undefined;
  return (
    <section aria-labelledby="branding-title">
      <h1 id="branding-title">{t.branding.heading}</h1>
      <p role="status" class="status">
        {message}
      </p>
      {answer.managedBy && answer.readOnly.length > 0 && (
        <p class="detail">
          <Sentence message={t.branding.declares} values={{ fields: answer.readOnly.join(', ') }} parts={{ file: <code>{answer.managedBy}</code> }} />
        </p>
      )}
      <div class="branding-layout">
        <form
          class="branding-form"
          noValidate
          {...formProps(bodyOf)}
        >
          <FormProblem problem={formProblem} fields={['displayName', 'logoUrl', 'primaryColor']} />
          <Field id="brand-name" name="displayName" label={t.branding.displayName} hint={locked('displayName') && answer.managedBy ? format(t.branding.setIn, { file: answer.managedBy }) : t.branding.displayNameHint} problem={formProblem}>
            <input id="brand-name" value={name} disabled={locked('displayName')} maxLength={120} onInput={(e) => setName((e.target as HTMLInputElement).value)} {...fieldProps(formProblem, 'displayName', 'brand-name')} />
          </Field>
          <Field id="brand-logo" name="logoUrl" label={t.branding.logo} hint={t.branding.logoHint} problem={formProblem}>
            <input id="brand-logo" type="url" value={logo} disabled={locked('logoUrl')} onInput={(e) => setLogo((e.target as HTMLInputElement).value)} {...fieldProps(formProblem, 'logoUrl', 'brand-logo')} />
          </Field>
          <Field id="brand-color" name="primaryColor" label={t.branding.color} hint={format(t.branding.colorHint, { min: number(MIN_CONTRAST), default: answer.defaults.primaryColor })} problem={formProblem}>
            <div class="color-row">
              <input id="brand-color" value={color} disabled={locked('primaryColor')} placeholder={answer.defaults.primaryColor} autocomplete="off" onInput={(e) => { setColor((e.target as HTMLInputElement).value.trim()); clearServerProblem(); }} {...fieldProps(formProblem, 'primaryColor', 'brand-color')} />
              <input type="color" aria-label={t.branding.pickColor} value={shown} disabled={locked('primaryColor')} onInput={(e) => { setColor((e.target as HTMLInputElement).value); clearServerProblem(); }} />
            </div>
          </Field>
          <p class={colorIssue ? 'error' : 'detail'} id="brand-contrast" aria-live="polite">
            {colorIssue ? format(t.branding.unreadable, { issue: colorIssue }) : format(t.branding.contrast, { ratio: twoDigits(ratio), min: number(MIN_CONTRAST) })}
          </p>
          {isAdmin && answer.readOnly.length < 3 && <Button>{t.branding.saveLabel}</Button>}
        </form>
        <div class="previews">
          <h2>{t.branding.preview}</h2>
          <Preview name={name || answer.branding.displayName} logo={/^https:\/\//.test(logo) ? logo : ''} color={shown} dark={false} />
          <Preview name={name || answer.branding.displayName} logo={/^https:\/\//.test(logo) ? logo : ''} color={shown} dark />
        </div>
      </div>
      <ConfirmAction action={action} onClose={closeAction} />
    </section>
  );
}
