// Issue 18: every browser-side passkey failure maps to a cause with its own message and next step
// (the decision table of public/scripts/shared/webauthn-errors.ts), and the English catalogue has
// a message for every cause.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { webauthnCause, webauthnMessage, type WebAuthnCause } from '../../public/scripts/shared/webauthn-errors.ts';
import { en } from '../../views/strings/en.ts';

const dom = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('WebAuthn error mapping', () => {
  const table: Array<[string, unknown, 'sign-in' | 'register', string | undefined, WebAuthnCause]> = [
    ['our own abort (autofill ended by the button)', dom('AbortError'), 'sign-in', undefined, 'quiet'],
    ['a second passkey on the same authenticator', dom('InvalidStateError'), 'register', undefined, 'already-registered'],
    ['InvalidStateError while signing in', dom('InvalidStateError'), 'sign-in', undefined, 'generic'],
    ['prompt closed, no username', dom('NotAllowedError'), 'sign-in', undefined, 'cancelled'],
    ['no passkey for a typed (maybe unknown) username', dom('NotAllowedError'), 'sign-in', 'nobody', 'no-passkey-here'],
    ['prompt closed while creating', dom('NotAllowedError'), 'register', undefined, 'cancelled'],
    ['no WebAuthn', new Error('WebAuthn is not supported in this browser'), 'sign-in', undefined, 'not-supported'],
    ['NotSupportedError', dom('NotSupportedError'), 'register', undefined, 'not-supported'],
    ['no user verification here', dom('ConstraintError'), 'register', undefined, 'constraint'],
    ['wrong RP ID for this address', dom('SecurityError'), 'sign-in', undefined, 'security'],
    ['fetch failed', new TypeError('Failed to fetch'), 'sign-in', undefined, 'network'],
    ['a TypeError of our own making', new TypeError('x is undefined'), 'sign-in', undefined, 'generic'],
    ['UnknownError', dom('UnknownError'), 'register', undefined, 'generic'],
    ['not an error at all', 'boom', 'sign-in', undefined, 'generic'],
    ['null', null, 'sign-in', undefined, 'generic'],
  ];
  for (const [what, error, ceremony, username, cause] of table) {
    test(`${what} → ${cause}`, () => assert.equal(webauthnCause(error, ceremony, { username }), cause));
  }

  test('every cause but quiet has its own English message; {username} is filled in', () => {
    const causes = new Set(table.map(([, , , , cause]) => cause));
    causes.delete('quiet');
    for (const cause of causes) assert.ok(en.errors.webauthn[cause as keyof typeof en.errors.webauthn], `message for ${cause}`);
    assert.equal(new Set(Object.values(en.errors.webauthn)).size, Object.keys(en.errors.webauthn).length, 'no two causes share a message');
    assert.equal(webauthnMessage('quiet', en.errors.webauthn), undefined);
    assert.match(webauthnMessage('no-passkey-here', en.errors.webauthn, { username: 'ada' })!, /No passkey for “ada” was found on this device/);
    assert.match(webauthnMessage('already-registered', en.errors.webauthn)!, /already has a passkey.*another device/);
    assert.equal(webauthnMessage('security', {}), '', 'no message at all: empty, so the page falls back to its generic text');
  });
});
