// Security policies: sign-up mode, user verification, the admin acr, refresh-token lifetimes and
// grace, rate limits — each shown with its default and its allowed range. The form checks its body
// with the API's own schema (src/admin/policy-settings.ts, built from the tenant file's) before it
// is sent; that and the server's answer land beside the field. A tenant whose file is in the
// tenants folder is read-only here (the file is the source of truth). Changes need a step-up.
import { useState } from 'preact/hooks';
import type { Me, PoliciesAnswer, PoliciesBody } from '../api.ts';
import { ConfirmAction, ProblemText, Sentence } from '../components.tsx';
import { api, base, format, number, t } from '../context.ts';
import { Field, FieldError, FormProblem, fieldProps } from '../forms.tsx';
import { useSettingsFlow } from '../save.ts';
import { policiesBody } from '../../../../src/admin/policy-settings.ts';
import { KNOWN_ACRS } from './client-form.tsx';
import { Button } from '../../../../ui/components/forms.tsx';

type Policies = PoliciesAnswer['policies'];
type Limit = { points?: number; duration?: number; blockDuration?: number };

const REFRESH = [
  { key: 'grace_seconds', label: t.policies.graceLabel, range: t.policies.graceRange, min: 0, max: 60 },
  { key: 'absolute_lifetime_seconds', label: t.policies.absoluteLabel, range: t.policies.absoluteRange, min: 3600 },
  { key: 'idle_timeout_seconds', label: t.policies.idleLabel, range: t.policies.idleRange, min: 300 },
] as const;
const LIMIT_PARTS = [
  { key: 'points', label: t.policies.points },
  { key: 'duration', label: t.policies.duration },
  { key: 'blockDuration', label: t.policies.blockDuration },
] as const;

/** A number input's text as the API takes it: empty is "not set", a number as a number, anything else as typed (so the server names it). */
const numberOf = (text: string): number | undefined => (text.trim() === '' ? undefined : /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : (text.trim() as unknown as number));
const duration = (seconds: number) => (seconds % 86400 === 0 ? format(t.policies.days, { count: seconds / 86400 }) : seconds % 3600 === 0 ? format(t.policies.hours, { count: seconds / 3600 }) : format(t.policies.seconds, { count: seconds }));

export function PoliciesPage({ me }: { me: Me }) {
  const page = `${base}/policies`;
  const [draft, setDraft] = useState<Record<string, string>>({});

  function fill(a: PoliciesAnswer, from?: PoliciesBody) {
    const p = { ...a.policies, ...(from ?? {}) } as Policies;
    const values: Record<string, string> = { signup: p.signup, user_verification: p.user_verification, admin_acr: p.admin_acr };
    for (const r of REFRESH) values[`refresh_tokens/${r.key}`] = String((from?.refresh_tokens as Record<string, number> | undefined)?.[r.key] ?? a.policies.refresh_tokens[r.key]);
    const limits = { ...a.policies.rate_limits, ...(from?.rate_limits ?? {}) } as Record<string, Limit>;
    for (const [key, limit] of Object.entries(limits)) for (const part of LIMIT_PARTS) if (limit[part.key] !== undefined) values[`rate_limits/${key}/${part.key}`] = String(limit[part.key]);
    setDraft(values);
  }
  const { answer, loadProblem, problem: formProblem, message, action, closeAction, formProps } = useSettingsFlow({
    page,
    me,
    schema: policiesBody,
    load: api.policies,
    send: api.changePolicies,
    fill,
    saved: t.policies.saved,
    confirm: { title: t.policies.changeTitle, body: t.policies.changeBody, label: t.policies.saveLabel },
  });
  const readOnly = !me.roles.includes('admin') || Boolean(answer?.managedBy);
  function bodyOf(): PoliciesBody {
    const refresh: Record<string, number> = {};
    for (const r of REFRESH) {
      const value = numberOf(draft[`refresh_tokens/${r.key}`] ?? '');
      if (value !== undefined) refresh[r.key] = value;
    }
    const limits: Record<string, Limit> = {};
    for (const key of Object.keys(answer!.defaults.rate_limits)) {
      const limit: Limit = {};
      for (const part of LIMIT_PARTS) {
        const value = numberOf(draft[`rate_limits/${key}/${part.key}`] ?? '');
        if (value !== undefined) limit[part.key] = value;
      }
      if (Object.keys(limit).length > 0) limits[key] = limit;
    }
    return {
      signup: draft.signup as PoliciesBody['signup'],
      user_verification: draft.user_verification as PoliciesBody['user_verification'],
      admin_acr: draft.admin_acr?.trim(),
      refresh_tokens: refresh,
      rate_limits: limits,
    };
  }

  if (!answer) return <section>{loadProblem ? <ProblemText problem={loadProblem} /> : <p role="status">{t.common.loading}</p>}</section>;
  const d = answer.defaults;
  const input = (name: string, id: string, extra: Record<string, unknown> = {}) => (
    <input id={id} inputMode="numeric" value={draft[name] ?? ''} disabled={readOnly} onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })} {...fieldProps(formProblem, name, id)} {...extra} />
  );
  return (
    <section aria-labelledby="policies-title">
      <h1 id="policies-title">{t.policies.heading}</h1>
      <p role="status" class="status">
        {message}
      </p>
      {answer.managedBy && (
        <p class="detail">
          <Sentence message={t.policies.managedBy} parts={{ file: <code>{answer.managedBy}</code>, command: <code>facet tenant apply</code> }} />
        </p>
      )}
      <form
        class="policy-form"
        noValidate
        {...formProps(bodyOf)}
      >
        <FormProblem problem={formProblem} fields={['signup', 'user_verification', 'admin_acr', 'refresh_tokens', 'rate_limits']} />
        <Field id="policy-signup" name="signup" label={t.policies.signup} hint={format(t.policies.defaultIs, { value: d.signup })} problem={formProblem}>
          <select id="policy-signup" value={draft.signup} disabled={readOnly} onChange={(e) => setDraft({ ...draft, signup: (e.target as HTMLSelectElement).value })} {...fieldProps(formProblem, 'signup', 'policy-signup')}>
            <option value="open">{t.policies.signupOpen}</option>
            <option value="invite">{t.policies.signupInvite}</option>
            <option value="closed">{t.policies.signupClosed}</option>
          </select>
        </Field>
        <Field id="policy-uv" name="user_verification" label={t.policies.userVerification} hint={format(t.policies.defaultIs, { value: d.user_verification })} problem={formProblem}>
          <select id="policy-uv" value={draft.user_verification} disabled={readOnly} onChange={(e) => setDraft({ ...draft, user_verification: (e.target as HTMLSelectElement).value })} {...fieldProps(formProblem, 'user_verification', 'policy-uv')}>
            <option value="required">{t.policies.uvRequired}</option>
            <option value="preferred">{t.policies.uvPreferred}</option>
          </select>
        </Field>
        <Field id="policy-admin-acr" name="admin_acr" label={t.policies.adminAcr} hint={format(t.policies.adminAcrHint, { value: d.admin_acr })} problem={formProblem}>
          <input id="policy-admin-acr" list="policy-acr-values" value={draft.admin_acr ?? ''} disabled={readOnly} onInput={(e) => setDraft({ ...draft, admin_acr: (e.target as HTMLInputElement).value })} {...fieldProps(formProblem, 'admin_acr', 'policy-admin-acr')} />
          <datalist id="policy-acr-values">
            {KNOWN_ACRS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </Field>
        <fieldset class="field">
          <legend>{t.policies.refreshTokens}</legend>
          {REFRESH.map((r) => (
            <Field key={r.key} id={`policy-${r.key}`} name={`refresh_tokens/${r.key}`} label={format(t.policies.refreshField, { label: r.label })} hint={format(t.policies.refreshHint, { range: r.range, value: number(d.refresh_tokens[r.key]), duration: duration(d.refresh_tokens[r.key]) })} problem={formProblem}>
              {input(`refresh_tokens/${r.key}`, `policy-${r.key}`)}
            </Field>
          ))}
        </fieldset>
        <h2>{t.policies.rateLimits}</h2>
        <p class="hint">{t.policies.rateLimitsHint}</p>
        {/* Focusable: on a narrow screen the table scrolls sideways, also by keyboard. */}
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t.policies.rateLimits}>
          <table>
            <caption class="visually-hidden">{t.policies.rateLimitsCaption}</caption>
            <thead>
              <tr>
                <th scope="col">{t.policies.limit}</th>
                {LIMIT_PARTS.map((p) => (
                  <th scope="col" key={p.key}>
                    {p.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Object.entries(d.rate_limits).map(([key, def]) => (
                <tr key={key}>
                  <th scope="row">
                    <code>{key}</code>
                  </th>
                  {LIMIT_PARTS.map((p) => {
                    const name = `rate_limits/${key}/${p.key}`;
                    const id = `limit-${key.replace('.', '-')}-${p.key}`;
                    return (
                      <td key={p.key}>
                        <label class="visually-hidden" for={id}>
                          {key} {p.label}
                        </label>
                        {input(name, id, { placeholder: def[p.key] === undefined ? '—' : String(def[p.key]), size: 6 })}
                        <FieldError problem={formProblem} name={name} id={id} />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {!readOnly && <Button>{t.policies.saveLabel}</Button>}
      </form>
      <ConfirmAction action={action} onClose={closeAction} />
    </section>
  );
}
