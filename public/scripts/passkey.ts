// Page behaviour for sign-in and passkey creation, bundled with @simplewebauthn/browser into
// /assets/build/passkey.js. Finds its endpoints and messages in data- attributes; no inline code.
import { status, postJson as post } from './shared/page.ts';
import { browserSupportsWebAuthnAutofill, startAuthentication, startRegistration, WebAuthnAbortService } from '@simplewebauthn/browser';

function browserError(root: HTMLElement, error: unknown): void {
  const name = (error as { name?: string }).name;
  // An autofill request ended by a button press, or a closed prompt: nothing went wrong on our side.
  if (name === 'AbortError') return;
  status(root, name === 'NotAllowedError' ? root.dataset.msgCancelled! : root.dataset.msgGeneric!);
}

async function signIn(root: HTMLElement, mode: 'autofill' | 'button' | 'username', username?: string): Promise<void> {
  const csrf = root.dataset.csrf!;
  const options = await post(root.dataset.optionsUrl!, { csrf, ...(username ? { username } : {}) });
  if (!options.ok) return status(root, options.message ?? root.dataset.msgGeneric!);
  let response;
  try {
    if (mode !== 'autofill') status(root, root.dataset.msgWorking!, false);
    response = await startAuthentication({ optionsJSON: options.data as any, useBrowserAutofill: mode === 'autofill' });
  } catch (error) {
    if (mode === 'autofill') return; // No credential chosen, or aborted: stay quiet.
    return browserError(root, error);
  }
  const verified = await post(root.dataset.verifyUrl!, { csrf, response });
  if (!verified.ok || typeof verified.data.redirect !== 'string') return status(root, verified.message ?? root.dataset.msgGeneric!);
  window.location.assign(verified.data.redirect);
}

async function register(root: HTMLElement): Promise<void> {
  const csrf = root.dataset.csrf!;
  const options = await post(root.dataset.optionsUrl!, { csrf });
  if (!options.ok) return status(root, options.message ?? root.dataset.msgGeneric!);
  let response;
  try {
    status(root, root.dataset.msgWorking!, false);
    response = await startRegistration({ optionsJSON: options.data as any });
  } catch (error) {
    return browserError(root, error);
  }
  const verified = await post(root.dataset.verifyUrl!, { csrf, response });
  if (!verified.ok || typeof verified.data.redirect !== 'string') return status(root, verified.message ?? root.dataset.msgGeneric!);
  window.location.assign(verified.data.redirect);
}

function initSignIn(root: HTMLElement): void {
  const button = root.querySelector<HTMLButtonElement>('#passkey-button');
  const form = root.querySelector<HTMLFormElement>('#username-form');
  button?.addEventListener('click', () => {
    WebAuthnAbortService.cancelCeremony();
    void signIn(root, 'button');
  });
  form?.addEventListener('submit', (event) => {
    event.preventDefault();
    const username = (form.querySelector<HTMLInputElement>('#username')?.value ?? '').trim();
    if (!username) return status(root, root.dataset.msgUsername!);
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
