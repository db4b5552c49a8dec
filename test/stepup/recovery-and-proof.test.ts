// Recovery codes as their own factor, and fresh proof before factor changes: the pure rules.
//   - a session that began with a recovery code (no passkey yet) is capped at urn:facet:acr:recovery
//   - it passes only requests that ask for nothing; anything else prompts for a passkey first
//   - a recovery code never satisfies otp, nfc or face
//   - fresh proof: the strongest second factor the account has (nfc > otp > face), a recovery code,
//     or a passkey when there is no second factor; within five minutes
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amrForFactor, evaluateStepUp, resolveAcrPolicy, RECOVERY_ACR, type Factor, type SessionFactor } from '../../src/stepup/index.ts';
import { acceptedProofs, freshProof, FRESH_PROOF_SECONDS } from '../../src/stepup/fresh-proof.ts';

const NOW = 2_000_000_000;
const policy = resolveAcrPolicy();
const done = (factor: Factor, age: number): SessionFactor => ({ factor, at: NOW - age, amr: amrForFactor(factor, { deviceBound: true }) });
const evaluate = (factors: SessionFactor[], enrolled: Factor[], requested = {}) => evaluateStepUp({ policy, requested, session: { factors }, enrolled: new Set(enrolled), now: NOW });

test('a session that began with a recovery code is capped at the recovery acr', () => {
  assert.deepEqual(evaluate([done('recovery_code', 10)], ['passkey', 'recovery_code']), { outcome: 'pass', acr: RECOVERY_ACR, amr: ['urn:facet:amr:recovery_code'] });
});

test('a recovery code never stands in for the authenticator app', () => {
  // The account has no app: passkey+otp is out of reach, whatever the recovery code proved.
  assert.deepEqual(evaluate([done('recovery_code', 10)], ['passkey', 'recovery_code'], { acrValues: ['urn:facet:acr:passkey+otp'] }).outcome, 'unmet');
  // With an app enrolled: a passkey sign-in first (the cap), then the app.
  assert.deepEqual(evaluate([done('recovery_code', 10)], ['passkey', 'otp', 'recovery_code'], { acrValues: ['urn:facet:acr:passkey+otp'] }), {
    outcome: 'prompt',
    missing: ['passkey', 'otp'],
    targetAcr: 'urn:facet:acr:passkey+otp',
  });
  // Even a client's bare passkey minimum needs a passkey sign-in after recovery.
  assert.deepEqual(evaluate([done('recovery_code', 10)], ['passkey', 'recovery_code'], { clientMinimumAcr: 'urn:facet:acr:passkey' }), {
    outcome: 'prompt',
    missing: ['passkey'],
    targetAcr: 'urn:facet:acr:passkey',
  });
});

test('signing in with a passkey again lifts the cap; the recovery code adds no "otp" and no "mfa"', () => {
  const decision = evaluate([done('recovery_code', 60), done('passkey', 5)], ['passkey', 'recovery_code'], { acrValues: ['urn:facet:acr:passkey'] });
  assert.deepEqual(decision, { outcome: 'pass', acr: 'urn:facet:acr:passkey', amr: ['hwk', 'user', 'urn:facet:amr:recovery_code'] });
  const withOtp = evaluate([done('recovery_code', 60), done('passkey', 5), done('otp', 2)], ['passkey', 'otp', 'recovery_code'], { acrValues: ['urn:facet:acr:passkey+otp'] });
  assert.deepEqual(withOtp, { outcome: 'pass', acr: 'urn:facet:acr:passkey+otp', amr: ['hwk', 'user', 'otp', 'urn:facet:amr:recovery_code', 'mfa'] });
});

test('an essential acr at sign-up the account cannot reach is unmet, never a lower acr', () => {
  const decision = evaluate([done('passkey', 1)], ['passkey', 'recovery_code'], { essentialAcr: ['urn:facet:acr:high'] });
  assert.equal(decision.outcome, 'unmet');
});

test('accepted proofs: the strongest second factor, a recovery code, or a passkey when there is none', () => {
  assert.deepEqual(acceptedProofs(new Set<Factor>(['passkey'])), ['passkey', 'recovery_code']);
  assert.deepEqual(acceptedProofs(new Set<Factor>(['passkey', 'otp'])), ['otp', 'recovery_code']);
  assert.deepEqual(acceptedProofs(new Set<Factor>(['passkey', 'otp', 'nfc'])), ['nfc', 'recovery_code']);
  assert.deepEqual(acceptedProofs(new Set<Factor>(['passkey', 'face'])), ['face', 'recovery_code']);
  assert.deepEqual(acceptedProofs(new Set<Factor>(['passkey', 'face', 'otp'])), ['otp', 'recovery_code']);
  // Removing the app: a code from it, or any other second factor.
  assert.deepEqual(acceptedProofs(new Set<Factor>(['passkey', 'otp', 'nfc']), { removing: 'otp' }), ['nfc', 'otp', 'recovery_code']);
  // A passkey is not enough once the account has a second factor.
  assert.ok(!acceptedProofs(new Set<Factor>(['passkey', 'otp'])).includes('passkey'));
});

test('fresh means within five minutes', () => {
  const accepted: Factor[] = ['otp', 'recovery_code'];
  assert.equal(freshProof([done('otp', FRESH_PROOF_SECONDS + 1)], accepted, NOW), undefined);
  assert.equal(freshProof([done('passkey', 1)], accepted, NOW), undefined);
  assert.equal(freshProof([done('otp', FRESH_PROOF_SECONDS)], accepted, NOW)?.factor, 'otp');
  assert.equal(freshProof([done('otp', 200), done('recovery_code', 10)], accepted, NOW)?.factor, 'recovery_code');
});
