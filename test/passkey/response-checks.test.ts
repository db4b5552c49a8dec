// The reasons a WebAuthn response is refused for, decided on the decoded response by our own
// checks (src/factors/passkey/response-checks.ts) instead of parsed out of SimpleWebAuthn's error
// messages: one response per reason, made by the software authenticator, then tampered with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reasonToRefuse, type ExpectedResponse } from '../../src/factors/passkey/response-checks.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';

const origin = 'https://id.example';
const rpId = 'id.example';
const challenge = Buffer.from('the-challenge-of-this-ceremony').toString('base64url');
const expected: ExpectedResponse = { challenge, origin, rpId, requireUserVerification: true };
const rp = { id: rpId, name: 'Example' };
const user = { id: Buffer.from('handle').toString('base64url'), name: 'ada', displayName: 'Ada' };

test('registration: a good response passes; each wrong part names its own reason', () => {
  const authenticator = new SoftAuthenticator();
  const good = authenticator.create({ challenge, rp, user }, { origin }) as any;
  assert.equal(reasonToRefuse({ kind: 'registration', response: good }, expected), undefined);
  const code = (response: any, overrides: Partial<ExpectedResponse> = {}) => reasonToRefuse({ kind: 'registration', response }, { ...expected, ...overrides })?.code;
  assert.equal(code(good, { challenge: 'another' }), 'challenge_mismatch');
  assert.equal(code(authenticator.create({ challenge, rp, user }, { origin: 'https://evil.example' })), 'origin_mismatch');
  assert.equal(code(authenticator.create({ challenge, rp: { ...rp, id: 'evil.example' }, user }, { origin })), 'rp_id_mismatch');
  const unverified = new SoftAuthenticator({ userVerified: false }).create({ challenge, rp, user }, { origin });
  assert.equal(code(unverified), 'user_verification_required');
  assert.equal(code(unverified, { requireUserVerification: false }), undefined);
  assert.equal(code({ ...good, response: { ...good.response, attestationObject: 'AAAA' } }), 'invalid_response');
  const asSignIn = { ...good, response: { ...good.response, clientDataJSON: Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin })).toString('base64url') } };
  assert.equal(code(asSignIn), 'invalid_response');
});

test('authentication: a counter that went back is a clone; zero counters are fine', () => {
  const authenticator = new SoftAuthenticator();
  authenticator.create({ challenge, rp, user }, { origin });
  const options = { challenge, rpId };
  const check = (counter: number, storedCounter: number) =>
    reasonToRefuse({ kind: 'authentication', response: authenticator.get(options, { origin, counter }) as any }, { ...expected, storedCounter });
  assert.equal(check(51, 50), undefined);
  assert.deepEqual(check(7, 50), { code: 'counter_regression', detail: 'counter value 7 was lower than expected 50' });
  assert.equal(check(50, 50)?.code, 'counter_regression');
  assert.equal(check(0, 0), undefined, 'authenticators without a counter always send 0');
  assert.equal(reasonToRefuse({ kind: 'authentication', response: authenticator.get(options, { origin: 'http://id.example' }) as any }, expected)?.code, 'origin_mismatch');
});
