// Small building blocks shared by the pages: form fields whose hints and errors are tied to the
// input (aria-describedby, aria-invalid), the CSRF field, and the status region scripts write to.
import { html, type SafeHtml } from './html.ts';

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
}

export function field({ id, label, name = id, type = 'text', value, autocomplete, hint, error, required = false, autofocus = false, inputmode }: FieldOptions): SafeHtml {
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
<label for="${id}">${label}</label>
${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
<input id="${id}" name="${name}" type="${type}"${value ? html` value="${value}"` : ''}${autocomplete ? html` autocomplete="${autocomplete}"` : ''}${
    describedBy ? html` aria-describedby="${describedBy}"` : ''
  }${error ? html` aria-invalid="true"` : ''}${required ? html` required` : ''}${autofocus ? html` autofocus` : ''}${inputmode ? html` inputmode="${inputmode}"` : ''}>
${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}
</div>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}

/** Where page scripts and the server put messages; announced by screen readers. */
export function statusRegion(message?: string | SafeHtml, id = 'status'): SafeHtml {
  // role=alert alone: adding aria-live="assertive" made some screen readers read each error twice.
  return html`<p id="${id}" class="status${message ? ' error' : ''}" role="alert">${message ?? ''}</p>`;
}

/** The passkey-failure messages a page script maps browser errors to (data-messages, JSON). */
export function webauthnMessagesJson(t: { errors: { webauthn: Record<string, string> } }): string {
  return JSON.stringify(t.errors.webauthn);
}

/**
 * "Cancel and go back to the application": a POST form (works without JavaScript, carries the
 * CSRF token) that ends the interaction with access_denied at the client.
 */
export function cancelForm({ action, csrf, label }: { action: string; csrf: string; label: string }): SafeHtml {
  return html`<form method="post" action="${action}" class="cancel">${csrfField(csrf)}<button type="submit" class="link" id="cancel-to-app">${label}</button></form>`;
}
