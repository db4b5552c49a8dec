// Page behaviour for sign-in and passkey creation, bundled with @simplewebauthn/browser into
// /assets/build/passkey.js. Finds its endpoints and messages in data- attributes; no inline code.
// Browser failures are mapped by cause (shared/webauthn-errors.ts); a refusal from the server
// (400, CSRF 403, 429, 503 …) shows the server's own problem+json message.
import { status, postJson, type JsonResult, type Json } from './shared/page.ts';
import { webauthnCause, webauthnMessage, type Ceremony, type WebAuthnMessages } from './shared/webauthn-errors.ts';
import { browserSupportsWebAuthnAutofill, startAuthentication, startRegistration, WebAuthnAbortService } from '@simplewebauthn/browser';

function messages(root: HTMLElement): Partial<WebAuthnMessages> {
  try {
    return JSON.parse(root.dataset.messages ?? '{}') as Partial<WebAuthnMessages>;
  } catch {
    return {};
  }
}

function showFailure(root: HTMLElement, error: unknown, ceremony: Ceremony, username?: string): void {
  const cause = webauthnCause(error, ceremony, { username });
  const message = webauthnMessage(cause, messages(root), { username });
  if (message === undefined) return; // An autofill request ended by a button press: nothing went wrong.
  status(root, message || root.dataset.msgGeneric!);
  // After "this device already has a passkey", point at the other-device hint.
  root.querySelector<HTMLElement>('#other-device')?.classList.toggle('highlight', cause === 'already-registered' || cause === 'no-passkey-here');
}

/** A JSON step; a network failure becomes the "could not reach" message instead of an exception. */
async function post(root: HTMLElement, url: string, body: Json, ceremony: Ceremony): Promise<JsonResult | undefined> {
  try {
    return await postJson(url, body);
  } catch (error) {
    showFailure(root, error instanceof TypeError ? error : Object.assign(new TypeError('fetch failed'), { cause: error }), ceremony);
    return undefined;
  }
}

/**
 * Set once the autofill ceremony has an answer and is being verified. A click then would ask for
 * a new challenge, which replaces the one the autofill answer signed: both verifications would
 * fail. So the click waits for the autofill result instead.
 */
let autofillVerifying = false;

async function signIn(root: HTMLElement, mode: 'autofill' | 'button' | 'username', username?: string): Promise<void> {
  const csrf = root.dataset.csrf!;
  const options = await post(root, root.dataset.optionsUrl!, { csrf, ...(username ? { username } : {}) }, 'sign-in');
  if (!options) return;
  if (!options.ok) return status(root, options.message ?? root.dataset.msgGeneric!);
  let response;
  try {
    if (mode !== 'autofill') status(root, root.dataset.msgWorking!, false);
    response = await startAuthentication({ optionsJSON: options.data as any, useBrowserAutofill: mode === 'autofill' });
  } catch (error) {
    if (mode === 'autofill') return; // No credential chosen, or aborted: stay quiet.
    return showFailure(root, error, 'sign-in', username);
  }
  if (mode === 'autofill') {
    autofillVerifying = true;
    status(root, root.dataset.msgWorking!, false);
  }
  const verified = await post(root, root.dataset.verifyUrl!, { csrf, response }, 'sign-in');
  if (!verified || !verified.ok || typeof verified.data.redirect !== 'string') {
    autofillVerifying = false;
    if (verified) status(root, verified.message ?? root.dataset.msgGeneric!);
    return;
  }
  window.location.assign(verified.data.redirect);
}

async function register(root: HTMLElement): Promise<void> {
  const csrf = root.dataset.csrf!;
  const options = await post(root, root.dataset.optionsUrl!, { csrf }, 'register');
  if (!options) return;
  if (!options.ok) return status(root, options.message ?? root.dataset.msgGeneric!);
  let response;
  try {
    status(root, root.dataset.msgWorking!, false);
    response = await startRegistration({ optionsJSON: options.data as any });
  } catch (error) {
    return showFailure(root, error, 'register');
  }
  const verified = await post(root, root.dataset.verifyUrl!, { csrf, response }, 'register');
  if (!verified) return;
  if (!verified.ok || typeof verified.data.redirect !== 'string') return status(root, verified.message ?? root.dataset.msgGeneric!);
  window.location.assign(verified.data.redirect);
}

function initSignIn(root: HTMLElement): void {
  const button = root.querySelector<HTMLButtonElement>('#passkey-button');
  const form = root.querySelector<HTMLFormElement>('#username-form');
  button?.addEventListener('click', () => {
    if (autofillVerifying) return;
    WebAuthnAbortService.cancelCeremony();
    void signIn(root, 'button');
  });
  form?.addEventListener('submit', (event) => {
    event.preventDefault();
    const username = (form.querySelector<HTMLInputElement>('#username')?.value ?? '').trim();
    if (!username) return status(root, root.dataset.msgUsername!);
    if (autofillVerifying) return;
    WebAuthnAbortService.cancelCeremony();
    void signIn(root, 'username', username);
  });
  void browserSupportsWebAuthnAutofill().then((supported) => {
    if (supported) void signIn(root, 'autofill');
  });
}

function initRegister(root: HTMLElement): void {
  root.querySelector<HTMLButtonElement>('#create-passkey')?.addEventListener('click', () => void register(root));
}

for (const root of document.querySelectorAll<HTMLElement>('[data-page]')) {
  if (root.dataset.page === 'sign-in') initSignIn(root);
  if (root.dataset.page === 'register' || root.dataset.page === 'add-passkey') initRegister(root);
}
