import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACR,
  AcrPolicyError,
  acrPolicySchema,
  amrForFactor,
  DEFAULT_ACR_VALUES,
  evaluateStepUp,
  resolveAcrPolicy,
  strengthOf,
} from '../../src/stepup/index.ts';

const NOW = 2_000_000_000;

test('default vocabulary: five values in a strict strength order, passkey the default', () => {
  const policy = resolveAcrPolicy();
  assert.deepEqual(policy.order, [
    'urn:facet:acr:passkey',
    'urn:facet:acr:passkey+otp',
    'urn:facet:acr:passkey+nfc',
    'urn:facet:acr:passkey+face',
    'urn:facet:acr:high',
  ]);
  assert.equal(policy.defaultAcr, ACR.passkey);
  assert.equal(strengthOf(policy, ACR.high), 4);
  assert.equal(strengthOf(policy, 'urn:nope'), -1);
  assert.deepEqual(DEFAULT_ACR_VALUES[ACR.high].allOf, [{ factor: 'passkey', maxAge: 900 }, { factor: 'face', maxAge: 300 }]);
  assert.ok(Object.isFrozen(DEFAULT_ACR_VALUES));
});

test('tenants add values and override defaults', () => {
  const policy = resolveAcrPolicy({
    values: {
      'urn:acme:acr:recovery': { strength: 15, allOf: [{ factor: 'passkey' }], anyOf: [{ factor: 'otp' }, { factor: 'recovery_code' }] },
      [ACR.high]: { strength: 50, allOf: [{ factor: 'passkey', maxAge: 600 }, { factor: 'face', maxAge: 120 }] },
    },
    defaultAcr: ACR.passkeyOtp,
  });
  assert.equal(policy.order[1], 'urn:acme:acr:recovery');
  assert.equal(policy.defaultAcr, ACR.passkeyOtp);
  // The recovery code stands in for the app when that is all the user has.
  const base = { policy, requested: { acrValues: ['urn:acme:acr:recovery'] }, enrolled: new Set(['passkey', 'recovery_code'] as const), now: NOW };
  const passkey = { factor: 'passkey' as const, at: NOW - 30, amr: ['hwk', 'user'] };
  assert.deepEqual(evaluateStepUp({ ...base, session: { factors: [passkey] } }), { outcome: 'prompt', missing: ['recovery_code'], targetAcr: 'urn:acme:acr:recovery' });
  // A recovery code is its own factor: its amr is never "otp" and it does not make the login "mfa".
  assert.deepEqual(evaluateStepUp({ ...base, session: { factors: [passkey, { factor: 'recovery_code', at: NOW - 5, amr: amrForFactor('recovery_code') }] } }), {
    outcome: 'pass',
    acr: 'urn:acme:acr:recovery',
    amr: ['hwk', 'user', 'urn:facet:amr:recovery_code'],
  });
  // The overridden high needs a face within 120 s and no second possession factor.
  const high = evaluateStepUp({
    policy,
    requested: { acrValues: [ACR.high] },
    session: { factors: [passkey, { factor: 'face', at: NOW - 200, amr: ['face'] }] },
    enrolled: new Set(['passkey', 'face'] as const),
    now: NOW,
  });
  assert.deepEqual(high, { outcome: 'prompt', missing: ['face'], targetAcr: ACR.high });
});

test('inheritDefaults false: the tenant vocabulary is all there is', () => {
  const policy = resolveAcrPolicy({ inheritDefaults: false, values: { 'urn:acme:basic': { strength: 1, allOf: [{ factor: 'passkey' }] } } });
  assert.deepEqual(policy.order, ['urn:acme:basic']);
  const decision = evaluateStepUp({ policy, requested: { essentialAcr: [ACR.high] }, session: { factors: [] }, enrolled: new Set(['passkey'] as const), now: NOW });
  assert.equal(decision.outcome, 'unmet');
});

test('invalid policies are refused with a typed error naming the problem', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ values: { 'urn:x': { strength: 10, allOf: [{ factor: 'passkey' }] } } }, /strengths must be unique/],
    [{ values: { 'urn:x': { strength: 99, allOf: [] } } }, /at least one factor/],
    [{ values: { 'urn:x': { strength: 99, allOf: [{ factor: 'password' }] } } }, /factor/],
    [{ values: { 'urn:x': { strength: 99, allOf: [{ factor: 'otp' }], anyOf: [{ factor: 'otp' }] } } }, /both allOf and anyOf/],
    [{ values: { 'urn:x': { strength: 99, allOf: [{ factor: 'otp' }, { factor: 'otp' }] } } }, /listed twice/],
    [{ values: { 'urn:x': { strength: 99, allOf: [{ factor: 'otp', maxAge: 0 }] } } }, /maxAge/],
    [{ values: { 'urn x': { strength: 99, allOf: [{ factor: 'otp' }] } } }, /Invalid key/],
    [{ defaultAcr: 'urn:missing' }, /defaultAcr/],
    [{ inheritDefaults: false }, /empty/],
    [{ extra: true }, /extra/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => resolveAcrPolicy(input as never), (error: unknown) => {
      assert.ok(error instanceof AcrPolicyError);
      assert.equal(error.code, 'invalid_acr_policy');
      assert.match(error.message, message);
      return true;
    }, JSON.stringify(input));
    assert.equal(acrPolicySchema.safeParse(input).success, false);
  }
});

test('amrForFactor: RFC 8176 values per factor', () => {
  assert.deepEqual(amrForFactor('passkey', { deviceBound: true }), ['hwk', 'user']);
  assert.deepEqual(amrForFactor('passkey'), ['swk', 'user']);
  assert.deepEqual(amrForFactor('passkey', { deviceBound: true, userVerified: false }), ['hwk']);
  assert.deepEqual(amrForFactor('otp'), ['otp']);
  assert.deepEqual(amrForFactor('nfc'), ['sc']);
  assert.deepEqual(amrForFactor('face'), ['face']);
  // RFC 8176 has no value for a printed single-use code; "otp" would pass it off as the app.
  assert.deepEqual(amrForFactor('recovery_code'), ['urn:facet:amr:recovery_code']);
});
