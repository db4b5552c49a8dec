// Pure helpers of the passkey pages: remembered-consent coverage, recovery-code input, strings,
// and form fields whose hints and errors are tied to their inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { covers } from '../../src/accounts/consents.ts';
import { normalizeRecoveryCode } from '../../src/accounts/recovery-codes.ts';
import { csrfToken } from '../../src/interaction/http.ts';
import { Field, type FieldOptions } from '../../ui/components/forms.tsx';
import { renderFragment } from '../../ui/render.ts';

const field = (options: FieldOptions) => ({ value: renderFragment(Field(options)) });
import { fill, stringsFor } from '../../views/strings/index.ts';

test('remembered consent covers a request only when every scope, claim and resource scope was allowed', () => {
  const remembered = { scopes: ['openid', 'email'], claims: ['email'], resources: { 'https://api/': ['read'] } };
  assert.equal(covers(remembered, { scopes: ['openid'], claims: [], resources: {} }), true);
  assert.equal(covers(remembered, { scopes: ['openid', 'profile'], claims: [], resources: {} }), false);
  assert.equal(covers(remembered, { scopes: [], claims: ['name'], resources: {} }), false);
  assert.equal(covers(remembered, { scopes: [], claims: [], resources: { 'https://api/': ['read', 'write'] } }), false);
});

test('recovery codes are accepted as people type them', () => {
  assert.equal(normalizeRecoveryCode(' AbCd-efgh ijkm-NPQR '), 'abcdefghijkmnpqr');
});

test('CSRF tokens differ per binding and per key', () => {
  assert.notEqual(csrfToken('k', 'interaction:a'), csrfToken('k', 'interaction:b'));
  assert.notEqual(csrfToken('k1', 'interaction:a'), csrfToken('k2', 'interaction:a'));
  assert.equal(csrfToken('k', 'interaction:a'), csrfToken('k', 'interaction:a'));
});

test('strings: English by default and for en-*, German for de-*, placeholders filled, unknown ones kept', () => {
  assert.equal(stringsFor('en-GB,de;q=0.5').lang, 'en');
  assert.equal(stringsFor('de-DE,en;q=0.5').lang, 'de');
  assert.equal(stringsFor(undefined).lang, 'en');
  assert.equal(fill('Sign in to {tenant} {x}', { tenant: 'Acme' }), 'Sign in to Acme {x}');
});

test('a field ties its hint and error to the input and escapes values', () => {
  const out = field({ id: 'username', label: 'Username', value: '"><script>', hint: 'Hint', error: 'Taken' }).value;
  assert.match(out, /<label for="username">Username<\/label>/);
  assert.match(out, /aria-describedby="username-hint username-error"/);
  assert.match(out, /aria-invalid="true"/);
  assert.match(out, /<p class="error" id="username-error">Taken<\/p>/);
  // preact-render-to-string escapes " & < in attributes (> cannot end an attribute value).
  assert.match(out, /value="&quot;(?:>|&gt;)&lt;script(?:>|&gt;)"/);
  assert.doesNotMatch(out, /<script/);
  assert.doesNotMatch(field({ id: 'a', label: 'A' }).value, /aria-invalid|aria-describedby/);
});
