// Why a passkey ceremony failed in the browser, as one of a few causes the page has a message (and
// a next step) for. Pure: no DOM, so the decision table is unit-tested in Node
// (test/views/webauthn-errors.test.ts).
//
// | error (DOMException name, kept by @simplewebauthn/browser's WebAuthnError) | ceremony | cause |
// |---|---|---|
// | AbortError (our own cancel: autofill ended by a button press) | any | quiet (say nothing) |
// | InvalidStateError (excludeCredentials matched: this authenticator already holds one) | register | already-registered |
// | NotAllowedError with a username typed (no credential of that account here, or prompt closed) | sign-in | no-passkey-here |
// | NotAllowedError otherwise (prompt closed, timed out, or user verification refused) | any | cancelled |
// | NotSupportedError, or "WebAuthn is not supported" | any | not-supported |
// | ConstraintError (no authenticator here can verify the user / keep a discoverable key) | any | constraint |
// | SecurityError (RP ID does not match the address) | any | security |
// | TypeError from fetch (the request never reached us) | any | network |
// | anything else | any | generic |
//
// An unknown username and a username whose passkey is on another device look the same on purpose
// (no account enumeration): both get "no passkey for this username here", with the next steps.
export type Ceremony = 'sign-in' | 'register';

export type WebAuthnCause = 'quiet' | 'already-registered' | 'no-passkey-here' | 'cancelled' | 'not-supported' | 'constraint' | 'security' | 'network' | 'generic';

export function webauthnCause(error: unknown, ceremony: Ceremony, { username }: { username?: string | undefined } = {}): WebAuthnCause {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  const message = typeof error === 'object' && error !== null ? String((error as { message?: unknown }).message ?? '') : '';
  switch (name) {
    case 'AbortError':
      return 'quiet';
    case 'InvalidStateError':
      return ceremony === 'register' ? 'already-registered' : 'generic';
    case 'NotAllowedError':
      return ceremony === 'sign-in' && username ? 'no-passkey-here' : 'cancelled';
    case 'NotSupportedError':
      return 'not-supported';
    case 'ConstraintError':
      return 'constraint';
    case 'SecurityError':
      return 'security';
    case 'TypeError':
      return /fetch|network|load failed/i.test(message) ? 'network' : 'generic';
    default:
      return /not supported/i.test(message) ? 'not-supported' : 'generic';
  }
}

/** The message texts a page hands to its script (one data-messages attribute, JSON). */
export type WebAuthnMessages = Record<Exclude<WebAuthnCause, 'quiet'>, string>;

/** The message for a cause, {username} filled in; undefined means: show nothing. */
export function webauthnMessage(cause: WebAuthnCause, messages: Partial<WebAuthnMessages>, values: { username?: string | undefined } = {}): string | undefined {
  if (cause === 'quiet') return undefined;
  const template = messages[cause] ?? messages.generic ?? '';
  return template.replace(/\{username\}/g, values.username ?? '');
}
