// The face prompt's server-side challenge store (single use, bound to one interaction and user,
// short-lived) and the pure helpers of its routes (capture times, refusal messages).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FACE_CHALLENGE_TTL_MS, issueFaceChallenge, parseSteps, purgeFaceChallenges, takeFaceChallenge } from '../../src/factors/face/challenges.ts';
import { enrolRejections, serverFrameTimes, verifyMessage } from '../../src/interaction/face-pages.ts';
import { FaceTemplateError } from '../../src/face/templates/errors.ts';
import { en } from '../../views/strings/en.ts';
import { createStoreDb, type StoreDb } from './store-db.ts';

describe('face challenge store', () => {
  let env: StoreDb;
  before(async () => {
    env = await createStoreDb(['0120_face_challenges.ts']);
  });
  after(async () => {
    await env?.close();
  });

  test('a challenge is taken once, by its interaction, user and id', async () => {
    const userId = await env.addUser();
    const binding = `interaction:${randomUUID()}`;
    const issued = await issueFaceChallenge(env.db, { binding, userId, now: 1_000_000 });
    assert.equal(issued.steps.length, 3);
    assert.equal(issued.expiresAt - issued.issuedAt, FACE_CHALLENGE_TTL_MS);
    assert.deepEqual(await takeFaceChallenge(env.db, { binding, userId, id: issued.id }), issued);
    assert.equal(await takeFaceChallenge(env.db, { binding, userId, id: issued.id }), undefined, 'single use');
  });

  test('a wrong id, another user or another interaction gets nothing, and burns the challenge', async () => {
    const userId = await env.addUser();
    const other = await env.addUser();
    const binding = `interaction:${randomUUID()}`;
    let issued = await issueFaceChallenge(env.db, { binding, userId });
    assert.equal(await takeFaceChallenge(env.db, { binding: `interaction:${randomUUID()}`, userId, id: issued.id }), undefined);
    assert.equal(await takeFaceChallenge(env.db, { binding, userId: other, id: issued.id }), undefined);
    assert.equal(await takeFaceChallenge(env.db, { binding, userId, id: issued.id }), undefined, 'the foreign attempt consumed it');
    issued = await issueFaceChallenge(env.db, { binding, userId });
    assert.equal(await takeFaceChallenge(env.db, { binding, userId, id: randomUUID() }), undefined);
    assert.equal(await takeFaceChallenge(env.db, { binding, userId, id: issued.id }), undefined);
  });

  test('a new challenge replaces the earlier one of the same interaction', async () => {
    const userId = await env.addUser();
    const binding = `interaction:${randomUUID()}`;
    const first = await issueFaceChallenge(env.db, { binding, userId });
    const second = await issueFaceChallenge(env.db, { binding, userId });
    assert.notEqual(first.id, second.id);
    assert.equal(await takeFaceChallenge(env.db, { binding, userId, id: first.id }), undefined);
  });

  test('an expired challenge is still returned (the check reports it expired) and purged later', async () => {
    const userId = await env.addUser();
    const binding = `interaction:${randomUUID()}`;
    const issued = await issueFaceChallenge(env.db, { binding, userId, now: Date.now() - 10 * 60_000 });
    assert.equal(await purgeFaceChallenges(env.db), 1);
    const again = await issueFaceChallenge(env.db, { binding, userId, now: Date.now() - 10 * 60_000 });
    const taken = await takeFaceChallenge(env.db, { binding, userId, id: again.id });
    assert.ok(taken && taken.expiresAt < Date.now());
    assert.notEqual(issued.id, again.id);
  });

  test('a fixed (test-only) sequence is stored as given', async () => {
    const userId = await env.addUser();
    const binding = `interaction:${randomUUID()}`;
    const fixedSteps = parseSteps('straight,left,right')!;
    const issued = await issueFaceChallenge(env.db, { binding, userId, fixedSteps });
    assert.deepEqual((await takeFaceChallenge(env.db, { binding, userId, id: issued.id }))!.steps, ['straight', 'left', 'right']);
  });
});

describe('face prompt helpers', () => {
  test('parseSteps accepts 2–6 known, non-repeating steps only', () => {
    assert.deepEqual(parseSteps('left,straight'), ['left', 'straight']);
    for (const bad of ['left', 'left,left', 'left,sideways', '', 'left,right,left,right,left,right,left', undefined, 42]) assert.equal(parseSteps(bad), undefined, String(bad));
  });

  test('capture times move to the server clock relative to the send time, never later than receipt', () => {
    // The page's clock is an hour fast; frames 2 s and 1 s before sending.
    const skew = 3_600_000;
    assert.deepEqual(serverFrameTimes([{ at: 10_000 + skew }, { at: 11_000 + skew }], 12_000 + skew, 12_300), [10_300, 11_300]);
    // A frame "after" the send time is clamped to receipt.
    assert.deepEqual(serverFrameTimes([{ at: 20_000 }], 19_000, 50_000), [50_000]);
  });

  test('every refusal has its own message', () => {
    const m = (reasons: string[]) => verifyMessage(en, { reasons });
    assert.deepEqual(m(['active_liveness_steps_not_completed']), { code: 'active_liveness_steps_not_completed', message: en.face.reasons.active_failed });
    assert.equal(m(['active_liveness_different_people']).message, en.face.reasons.active_failed);
    assert.equal(m(['active_liveness_expired']).message, en.face.reasons.challenge_gone);
    assert.deepEqual(m(['below_threshold']), { code: 'below_threshold', message: en.face.reasons.below_threshold });
    assert.deepEqual(m(['passive_liveness_failed', 'below_threshold']).code, 'passive_liveness_failed');
    assert.deepEqual(m(['no_usable_frame', 'too_dark']), { code: 'too_dark', message: en.face.reasons.too_dark });
    assert.deepEqual(m(['not_enrolled']).code, 'not_enrolled');
    for (const code of ['no_face', 'multiple_faces', 'face_too_small', 'face_cut_off', 'too_dark', 'too_blurred', 'head_turned', 'passive_liveness_failed', 'low_quality']) {
      assert.ok(en.face.reasons[code], code);
      assert.deepEqual(enrolRejections(new FaceTemplateError('face_enrol_no_usable_frame', 'none of the frames can be enrolled', { reasons: [code, 'bogus'] })), [code]);
    }
    // The reasons travel as codes: a code that only appears in the message text is not read.
    assert.deepEqual(enrolRejections(new FaceTemplateError('face_enrol_no_usable_frame', 'none of the frames can be enrolled (too_dark)')), []);
  });
});
