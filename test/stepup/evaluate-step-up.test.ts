// The step-up matrix: requested acr x enrolled factors x factor ages -> pass / prompt / unmet.
// Every expectation below is written out by hand from the default vocabulary:
//   passkey        (10) passkey
//   passkey+otp    (20) passkey, otp
//   passkey+nfc    (30) passkey, nfc
//   passkey+face   (40) passkey, face <= 900 s
//   high           (50) passkey <= 900 s, face <= 300 s, and nfc <= 900 s or otp <= 900 s
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateStepUp, resolveAcrPolicy, type Factor, type StepUpDecision, type StepUpRequest } from '../../src/stepup/index.ts';

const PASSKEY = 'urn:facet:acr:passkey';
const OTP = 'urn:facet:acr:passkey+otp';
const NFC = 'urn:facet:acr:passkey+nfc';
const FACE = 'urn:facet:acr:passkey+face';
const HIGH = 'urn:facet:acr:high';

const NOW = 2_000_000_000;
const AMR: Record<Factor, string[]> = { passkey: ['hwk', 'user'], otp: ['otp'], nfc: ['sc'], face: ['face'], recovery_code: ['otp'] };

type Done = Partial<Record<Factor, number>>; // factor -> age in seconds
interface Row {
  name: string;
  requested?: StepUpRequest;
  enrolled: Factor[];
  done: Done;
  expect: StepUpDecision;
}

const P: Factor[] = ['passkey'];
const PO: Factor[] = ['passkey', 'otp'];
const PN: Factor[] = ['passkey', 'nfc'];
const PF: Factor[] = ['passkey', 'face'];
const PON: Factor[] = ['passkey', 'otp', 'nfc'];
const PFO: Factor[] = ['passkey', 'face', 'otp'];
const PFN: Factor[] = ['passkey', 'face', 'nfc'];
const ALL: Factor[] = ['passkey', 'otp', 'nfc', 'face'];

const pass = (acr: string, amr: string[]): StepUpDecision => ({ outcome: 'pass', acr, amr });
const prompt = (targetAcr: string, missing: Factor[]): StepUpDecision => ({ outcome: 'prompt', missing, targetAcr });
const UNMET = 'unmet' as const;

const rows: Array<Omit<Row, 'expect'> & { expect: StepUpDecision | typeof UNMET }> = [
  // Nothing requested: the default (weakest) value, or the strongest the session already meets.
  { name: 'no request, nothing done', enrolled: P, done: {}, expect: prompt(PASSKEY, ['passkey']) },
  { name: 'no request, passkey done', enrolled: P, done: { passkey: 60 }, expect: pass(PASSKEY, ['hwk', 'user']) },
  { name: 'no request, passkey+otp done', enrolled: ALL, done: { passkey: 60, otp: 60 }, expect: pass(OTP, ['hwk', 'user', 'otp', 'mfa']) },
  { name: 'no request, passkey+face+nfc done', enrolled: ALL, done: { passkey: 60, face: 60, nfc: 60 }, expect: pass(HIGH, ['hwk', 'user', 'sc', 'face', 'mfa']) },
  { name: 'no request, nothing enrolled', enrolled: [], done: {}, expect: UNMET },

  // passkey, max_age and prompt=login
  { name: 'passkey, old passkey, no max_age', requested: { acrValues: [PASSKEY] }, enrolled: P, done: { passkey: 7200 }, expect: pass(PASSKEY, ['hwk', 'user']) },
  { name: 'passkey, max_age 3600, passkey 2 h old', requested: { acrValues: [PASSKEY], maxAge: 3600 }, enrolled: P, done: { passkey: 7200 }, expect: prompt(PASSKEY, ['passkey']) },
  { name: 'passkey, max_age 3600, passkey 59 min old', requested: { acrValues: [PASSKEY], maxAge: 3600 }, enrolled: P, done: { passkey: 3540 }, expect: pass(PASSKEY, ['hwk', 'user']) },
  { name: 'max_age 0, passkey done in this interaction', requested: { maxAge: 0, interactionStartedAt: NOW - 30 }, enrolled: P, done: { passkey: 10 }, expect: pass(PASSKEY, ['hwk', 'user']) },
  { name: 'max_age 0, passkey before this interaction', requested: { maxAge: 0, interactionStartedAt: NOW - 30 }, enrolled: P, done: { passkey: 60 }, expect: prompt(PASSKEY, ['passkey']) },
  { name: 'prompt=login, passkey before this interaction', requested: { promptLogin: true, interactionStartedAt: NOW - 30 }, enrolled: P, done: { passkey: 60 }, expect: prompt(PASSKEY, ['passkey']) },
  { name: 'prompt=login, passkey in this interaction', requested: { promptLogin: true, interactionStartedAt: NOW - 30 }, enrolled: P, done: { passkey: 10 }, expect: pass(PASSKEY, ['hwk', 'user']) },
  { name: 'passkey, nothing enrolled', requested: { acrValues: [PASSKEY] }, enrolled: [], done: {}, expect: UNMET },

  // passkey+otp
  { name: 'otp, nothing done', requested: { acrValues: [OTP] }, enrolled: PO, done: {}, expect: prompt(OTP, ['passkey', 'otp']) },
  { name: 'otp, passkey done', requested: { acrValues: [OTP] }, enrolled: PO, done: { passkey: 60 }, expect: prompt(OTP, ['otp']) },
  { name: 'otp, passkey only enrolled', requested: { acrValues: [OTP] }, enrolled: P, done: { passkey: 60 }, expect: UNMET },
  { name: 'otp not enrolled, face is: the stronger passkey+face', requested: { acrValues: [OTP] }, enrolled: PF, done: { passkey: 60 }, expect: prompt(FACE, ['face']) },
  { name: 'otp, both done', requested: { acrValues: [OTP] }, enrolled: PO, done: { passkey: 60, otp: 60 }, expect: pass(OTP, ['hwk', 'user', 'otp', 'mfa']) },
  { name: 'otp requested, nfc done: stronger value issued', requested: { acrValues: [OTP] }, enrolled: ALL, done: { passkey: 60, nfc: 60 }, expect: pass(NFC, ['hwk', 'user', 'sc', 'mfa']) },
  { name: 'essential otp, nfc done: the essential value issued', requested: { essentialAcr: [OTP] }, enrolled: ALL, done: { passkey: 60, nfc: 60 }, expect: pass(OTP, ['hwk', 'user', 'sc', 'mfa']) },
  { name: 'otp, max_age 300, passkey 10 min old', requested: { acrValues: [OTP], maxAge: 300 }, enrolled: PO, done: { passkey: 600, otp: 60 }, expect: prompt(OTP, ['passkey']) },
  { name: 'otp, prompt=login, only passkey redone', requested: { acrValues: [OTP], promptLogin: true, interactionStartedAt: NOW - 100 }, enrolled: PO, done: { passkey: 50, otp: 2000 }, expect: prompt(OTP, ['otp']) },

  // passkey+nfc
  { name: 'nfc, passkey done', requested: { acrValues: [NFC] }, enrolled: PN, done: { passkey: 60 }, expect: prompt(NFC, ['nfc']) },
  { name: 'nfc, card not enrolled, no face', requested: { acrValues: [NFC] }, enrolled: PO, done: { passkey: 60 }, expect: UNMET },
  { name: 'nfc, both done', requested: { acrValues: [NFC] }, enrolled: PN, done: { passkey: 60, nfc: 60 }, expect: pass(NFC, ['hwk', 'user', 'sc', 'mfa']) },
  { name: 'nfc, old tap still counts (no age limit)', requested: { acrValues: [NFC] }, enrolled: PN, done: { passkey: 60, nfc: 7200 }, expect: pass(NFC, ['hwk', 'user', 'sc', 'mfa']) },

  // passkey+face (face <= 900 s)
  { name: 'face, nothing done', requested: { acrValues: [FACE] }, enrolled: PF, done: {}, expect: prompt(FACE, ['passkey', 'face']) },
  { name: 'face, passkey done', requested: { acrValues: [FACE] }, enrolled: PF, done: { passkey: 60 }, expect: prompt(FACE, ['face']) },
  { name: 'face, face 10 min old', requested: { acrValues: [FACE] }, enrolled: PF, done: { passkey: 60, face: 600 }, expect: pass(FACE, ['hwk', 'user', 'face', 'mfa']) },
  { name: 'face, face exactly 15 min old', requested: { acrValues: [FACE] }, enrolled: PF, done: { passkey: 60, face: 900 }, expect: pass(FACE, ['hwk', 'user', 'face', 'mfa']) },
  { name: 'face, face 15 min + 1 s old', requested: { acrValues: [FACE] }, enrolled: PF, done: { passkey: 60, face: 901 }, expect: prompt(FACE, ['face']) },
  { name: 'face, face not enrolled', requested: { acrValues: [FACE] }, enrolled: PON, done: { passkey: 60 }, expect: UNMET },

  // high (passkey <= 900, face <= 300, nfc or otp <= 900; nfc preferred)
  { name: 'high, passkey done, all enrolled: nfc preferred', requested: { acrValues: [HIGH] }, enrolled: ALL, done: { passkey: 60 }, expect: prompt(HIGH, ['nfc', 'face']) },
  { name: 'high, passkey done, no card: otp', requested: { acrValues: [HIGH] }, enrolled: PFO, done: { passkey: 60 }, expect: prompt(HIGH, ['otp', 'face']) },
  { name: 'high, neither card nor otp', requested: { acrValues: [HIGH] }, enrolled: PF, done: { passkey: 60 }, expect: UNMET },
  { name: 'high, passkey only', requested: { acrValues: [HIGH] }, enrolled: P, done: { passkey: 60 }, expect: UNMET },
  { name: 'high, face 400 s old', requested: { acrValues: [HIGH] }, enrolled: PFN, done: { passkey: 60, face: 400, nfc: 60 }, expect: prompt(HIGH, ['face']) },
  { name: 'high, face exactly 300 s old', requested: { acrValues: [HIGH] }, enrolled: PFN, done: { passkey: 60, face: 300, nfc: 60 }, expect: pass(HIGH, ['hwk', 'user', 'sc', 'face', 'mfa']) },
  { name: 'high, passkey 1000 s old', requested: { acrValues: [HIGH] }, enrolled: PFN, done: { passkey: 1000, face: 60, nfc: 60 }, expect: prompt(HIGH, ['passkey']) },
  { name: 'high, all fresh with nfc', requested: { acrValues: [HIGH] }, enrolled: PFN, done: { passkey: 60, face: 60, nfc: 60 }, expect: pass(HIGH, ['hwk', 'user', 'sc', 'face', 'mfa']) },
  { name: 'high, otp too old', requested: { acrValues: [HIGH] }, enrolled: PFO, done: { passkey: 60, face: 60, otp: 1000 }, expect: prompt(HIGH, ['otp']) },
  { name: 'high, all fresh with otp', requested: { acrValues: [HIGH] }, enrolled: ALL, done: { passkey: 60, face: 60, otp: 60 }, expect: pass(HIGH, ['hwk', 'user', 'otp', 'face', 'mfa']) },
  { name: 'high, nothing done', requested: { acrValues: [HIGH] }, enrolled: PFO, done: {}, expect: prompt(HIGH, ['passkey', 'otp', 'face']) },

  // Several values, client floor, unknown values, essential claims
  { name: 'face or otp preferred face, both enrolled', requested: { acrValues: [FACE, OTP] }, enrolled: PFO, done: { passkey: 60 }, expect: prompt(FACE, ['face']) },
  { name: 'face or otp, face not enrolled', requested: { acrValues: [FACE, OTP] }, enrolled: PO, done: { passkey: 60 }, expect: prompt(OTP, ['otp']) },
  { name: 'otp or face, otp already done', requested: { acrValues: [OTP, FACE] }, enrolled: PFO, done: { passkey: 60, otp: 60 }, expect: pass(OTP, ['hwk', 'user', 'otp', 'mfa']) },
  { name: 'client minimum otp, nothing requested', requested: { clientMinimumAcr: OTP }, enrolled: PO, done: { passkey: 60 }, expect: prompt(OTP, ['otp']) },
  { name: 'client minimum otp beats acr_values passkey', requested: { acrValues: [PASSKEY], clientMinimumAcr: OTP }, enrolled: PO, done: { passkey: 60 }, expect: prompt(OTP, ['otp']) },
  { name: 'client minimum otp, met', requested: { acrValues: [PASSKEY], clientMinimumAcr: OTP }, enrolled: PO, done: { passkey: 60, otp: 60 }, expect: pass(OTP, ['hwk', 'user', 'otp', 'mfa']) },
  { name: 'client minimum unknown to the tenant', requested: { clientMinimumAcr: 'urn:other:acr' }, enrolled: ALL, done: { passkey: 60 }, expect: UNMET },
  { name: 'unknown voluntary value is ignored', requested: { acrValues: ['urn:other:acr'] }, enrolled: P, done: { passkey: 60 }, expect: pass(PASSKEY, ['hwk', 'user']) },
  { name: 'unknown essential value is unmet', requested: { essentialAcr: ['urn:other:acr'] }, enrolled: ALL, done: { passkey: 60 }, expect: UNMET },
  { name: 'essential passkey or high, otp done: passkey issued', requested: { essentialAcr: [PASSKEY, HIGH] }, enrolled: ALL, done: { passkey: 60, otp: 60 }, expect: pass(PASSKEY, ['hwk', 'user', 'otp', 'mfa']) },
  { name: 'essential face, otp done', requested: { essentialAcr: [FACE] }, enrolled: PFO, done: { passkey: 60, otp: 60 }, expect: prompt(FACE, ['face']) },
  { name: 'essential beats voluntary', requested: { essentialAcr: [FACE], acrValues: [PASSKEY] }, enrolled: PF, done: { passkey: 60 }, expect: prompt(FACE, ['face']) },
  { name: 'essential below the client minimum', requested: { essentialAcr: [PASSKEY], clientMinimumAcr: OTP }, enrolled: PO, done: { passkey: 60, otp: 60 }, expect: UNMET },
];

const policy = resolveAcrPolicy();

for (const row of rows) {
  test(`step-up: ${row.name}`, () => {
    const factors = Object.entries(row.done).map(([factor, age]) => ({ factor: factor as Factor, at: NOW - age, amr: AMR[factor as Factor] }));
    const decision = evaluateStepUp({ policy, requested: row.requested ?? {}, session: { factors }, enrolled: new Set(row.enrolled), now: NOW });
    if (row.expect === UNMET) {
      assert.equal(decision.outcome, 'unmet', JSON.stringify(decision));
      assert.equal(decision.outcome === 'unmet' && decision.error, 'unmet_authentication_requirements');
      assert.ok(decision.outcome === 'unmet' && decision.description.length > 10);
    } else {
      assert.deepEqual(decision, row.expect);
    }
  });
}

test('amr: a synced passkey is swk, repeated factors count once, mfa only with two kinds', () => {
  const decision = evaluateStepUp({
    policy,
    session: { factors: [{ factor: 'passkey', at: NOW - 500, amr: ['swk', 'user'] }, { factor: 'passkey', at: NOW - 10, amr: ['swk', 'user'] }] },
    enrolled: new Set(P),
    now: NOW,
  });
  assert.deepEqual(decision, pass(PASSKEY, ['swk', 'user']));
});

test('the latest completion of a factor is the one whose age counts', () => {
  const decision = evaluateStepUp({
    policy,
    requested: { acrValues: [FACE] },
    session: { factors: [{ factor: 'passkey', at: NOW - 10, amr: AMR.passkey }, { factor: 'face', at: NOW - 60, amr: ['face'] }, { factor: 'face', at: NOW - 5000, amr: ['face'] }] },
    enrolled: new Set(PF),
    now: NOW,
  });
  assert.deepEqual(decision, pass(FACE, ['hwk', 'user', 'face', 'mfa']));
});

test('prompt=login without the interaction start is a programming error', () => {
  assert.throws(() => evaluateStepUp({ policy, requested: { promptLogin: true }, session: { factors: [] }, enrolled: new Set(P), now: NOW }), TypeError);
  assert.throws(() => evaluateStepUp({ policy, requested: { maxAge: -1 }, session: { factors: [] }, enrolled: new Set(P), now: NOW }), RangeError);
});

test('session entries with unknown factors or bad times are ignored', () => {
  const decision = evaluateStepUp({
    policy,
    session: { factors: [{ factor: 'password' as Factor, at: NOW, amr: ['pwd'] }, { factor: 'passkey', at: Number.NaN, amr: AMR.passkey }] },
    enrolled: new Set(P),
    now: NOW,
  });
  assert.deepEqual(decision, prompt(PASSKEY, ['passkey']));
});
