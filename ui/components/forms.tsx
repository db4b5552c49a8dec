// Small building blocks shared by the server-rendered pages and the console (bundled for the browser
// by scripts/build-assets.ts, so nothing here renders to strings or imports Node): a card, form fields
// whose hints and errors are tied to the input (aria-describedby, aria-invalid), the CSRF field,
// buttons, and the status region scripts write to.
import type { ComponentChildren, JSX } from 'preact';
import { SafeHtml } from '../html.ts';

export function Card({ page, alert, children, class: extra }: { page?: string; alert?: boolean; class?: string; children?: ComponentChildren }) {
  return (
    <section class={extra ? `card ${extra}` : 'card'} data-page={page} role={alert ? 'alert' : undefined}>
      {children}
    </section>
  );
}

export interface FieldOptions {
  id: string;
  label: string;
  name?: string;
  type?: string;
  value?: string | null | undefined;
  autocomplete?: string;
  hint?: string;
  error?: string | undefined;
  required?: boolean;
  autofocus?: boolean;
  inputmode?: string;
  /**
   * A control of the caller's own (a select, a textarea, an input the browser app controls) in
   * place of the plain input; it carries its own id, aria-invalid and aria-describedby
   * (`${id}-error`, `${id}-hint`), and the other input options above are not used.
   */
  children?: ComponentChildren;
  /** Another class beside "field" (the console's "narrow"). */
  class?: string;
}

export function Field({ id, label, name = id, type = 'text', value, autocomplete, hint, error, required = false, autofocus = false, inputmode, children, class: extra }: FieldOptions) {
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={extra ? `field ${extra}` : 'field'}>
      <label for={id}>{label}</label>
      {hint ? <p class="hint" id={`${id}-hint`}>{hint}</p> : null}
      {children ?? <input
        id={id}
        name={name}
        type={type}
        value={value || undefined}
        autocomplete={autocomplete}
        aria-describedby={describedBy || undefined}
        aria-invalid={error ? 'true' : undefined}
        required={required}
        autofocus={autofocus}
        inputmode={inputmode}
      />}
      {error ? <p class="error" id={`${id}-error`}>{error}</p> : null}
    </div>
  );
}

export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="csrf" value={token} />;
}

export type ButtonProps = Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, 'class' | 'className' | 'type'> & {
  kind?: 'secondary' | 'link' | 'danger' | undefined;
  /** The compact size (table rows). */
  small?: boolean;
  type?: 'submit' | 'button';
};

/** A button; `kind` picks the look (primary is the default style, secondary, link, danger). */
export function Button({ kind, small = false, type = 'submit', children, ...rest }: ButtonProps) {
  const className = [kind, small ? 'small' : ''].filter(Boolean).join(' ');
  return <button type={type} class={className || undefined} {...rest}>{children}</button>;
}

/** An error said once, announced by screen readers (role=alert). */
export function Alert({ id, children }: { id?: string; children?: ComponentChildren }) {
  return <p class="error" role="alert" id={id}>{children}</p>;
}

/** Where page scripts and the server put messages; announced by screen readers. */
export function StatusRegion({ message, id = 'status' }: { message?: string | SafeHtml | undefined; id?: string }) {
  // role=alert alone: adding aria-live="assertive" made some screen readers read each error twice.
  const className = `status${message ? ' error' : ''}`;
  if (message instanceof SafeHtml) return <p id={id} class={className} role="alert" dangerouslySetInnerHTML={{ __html: message.value }} />;
  return <p id={id} class={className} role="alert">{message ?? ''}</p>;
}

/**
 * "Cancel and go back to the application": a POST form (works without JavaScript, carries the
 * CSRF token) that ends the interaction with access_denied at the client.
 */
export function CancelForm({ action, csrf, label }: { action: string; csrf: string; label: string }) {
  return (
    <form method="post" action={action} class="cancel">
      <CsrfField token={csrf} />
      <button type="submit" class="link" id="cancel-to-app">{label}</button>
    </form>
  );
}

/** The passkey-failure messages a page script maps browser errors to (data-messages, JSON). */
export function webauthnMessagesJson(t: { errors: { webauthn: Record<string, string> } }): string {
  return JSON.stringify(t.errors.webauthn);
}
