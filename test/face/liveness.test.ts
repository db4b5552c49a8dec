// Active liveness with real LFW photos whose heads are turned (found by measuring yaw over the
// data set), mirrored with sharp for the opposite turn; plus the challenge rules themselves.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  checkChallenge, cosineSimilarity, createChallenge, createFaceEngine, estimateHeadPose, poseMatches, seededRandom,
  type Challenge, type ChallengeFrame, type FaceAnalysis, type FaceEngine,
} from '../../src/face/index.ts';
import { modelsDir, faceDataDir } from '../support/shared-data.ts';

const lfw = (person: string, index: number) => readFile(path.join(faceDataDir, 'images', person, `${person}_${String(index).padStart(4, '0')}.jpg`));
const mirror = async (bytes: Buffer) => sharp(bytes).flop().jpeg({ quality: 95 }).toBuffer();

/** A random source replaying fixed values, to pin a challenge's steps. */
const replay = (values: number[]) => { let i = 0; return () => values[i++ % values.length]; };

describe('createChallenge', () => {
  it('an injected random source fixes the sequence', () => {
    const challenge = createChallenge({ now: 1000, random: replay([0, 0.3, 0.3]) });
    assert.deepEqual(challenge.steps, ['left', 'straight', 'right']);
    assert.equal(challenge.issuedAt, 1000);
    assert.equal(challenge.expiresAt, 31_000);
    assert.match(challenge.id, /^[0-9a-f-]{36}$/);
  });

  it('never repeats a step back to back and always includes a turn', () => {
    const random = seededRandom(42);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const { steps } = createChallenge({ random, steps: 2 + (i % 4) });
      steps.forEach((step, k) => assert.notEqual(step, steps[k - 1]));
      assert.ok(steps.includes('left') || steps.includes('right'), steps.join(','));
      seen.add(steps.join(','));
    }
    assert.ok(seen.size > 100, 'sequences vary');
    assert.deepEqual(createChallenge({ random: seededRandom(7) }).steps, createChallenge({ random: seededRandom(7) }).steps);
    assert.throws(() => createChallenge({ kinds: ['up', 'down'] }), RangeError);
  });

  it('step pose regions are disjoint, so one pose can satisfy at most one step', () => {
    const steps = ['left', 'right', 'straight', 'up', 'down'] as const;
    for (let yaw = -60; yaw <= 60; yaw += 1) {
      for (let pitch = -40; pitch <= 40; pitch += 1) {
        assert.ok(steps.filter((s) => poseMatches(s, { yaw, pitch })).length <= 1, `${yaw}/${pitch}`);
      }
    }
  });
});

describe('estimateHeadPose geometry', () => {
  const frontal: Array<[number, number]> = [[38.3, 51.7], [73.5, 51.5], [56.0, 76.0], [41.5, 92.4], [70.7, 92.2]];
  it('nose towards the right of the picture is yaw > 0 (the subject\'s left); roll alone changes nothing', () => {
    assert.ok(Math.abs(estimateHeadPose(frontal).yaw) < 2);
    const turned = frontal.map(([x, y], i) => [i === 2 ? x + 10 : x, y] as [number, number]);
    assert.ok(estimateHeadPose(turned).yaw > 20);
    const rolled = frontal.map(([x, y]) => [56 + (x - 56) * Math.cos(0.4) - (y - 70) * Math.sin(0.4), 70 + (x - 56) * Math.sin(0.4) + (y - 70) * Math.cos(0.4)] as [number, number]);
    const pose = estimateHeadPose(rolled);
    assert.ok(Math.abs(pose.yaw - estimateHeadPose(frontal).yaw) < 1e-6 && Math.abs(pose.pitch - estimateHeadPose(frontal).pitch) < 1e-6);
    const up = frontal.map(([x, y], i) => [x, i === 2 ? y - 8 : y] as [number, number]);
    assert.ok(estimateHeadPose(up).pitch > estimateHeadPose(frontal).pitch + 10);
  });
});

describe('active challenge with real faces', () => {
  let engine: FaceEngine;
  const faces = new Map<string, FaceAnalysis>();
  const frame = (key: string, at: number): ChallengeFrame => {
    const face = faces.get(key);
    assert.ok(face, key);
    return { at, pose: face.pose, embedding: face.embedding };
  };

  before(async () => {
    engine = await createFaceEngine({ modelsDir, workers: 2 });
    const sources: Record<string, Promise<Buffer>> = {
      barrosoLeft: lfw('Jose_Manuel_Durao_Barroso', 3),
      barrosoStraight: lfw('Jose_Manuel_Durao_Barroso', 4),
      barrosoRight: lfw('Jose_Manuel_Durao_Barroso', 5),
      thorpeLeft: lfw('Ian_Thorpe', 7),
      thorpeStraight: lfw('Ian_Thorpe', 5),
      thorpeRight: lfw('Ian_Thorpe', 7).then(mirror),
      bushStraight: lfw('Laura_Bush', 39),
      capriatiUp: lfw('Jennifer_Capriati', 32),
      phelpsDown: lfw('Michael_Phelps', 1),
    };
    await Promise.all(Object.entries(sources).map(async ([key, bytes]) => {
      faces.set(key, await engine.analyze(await bytes, { requireFrontal: false, allowOtherFaces: true }));
    }));
  });
  after(() => engine.close());

  const challenge = (): Challenge => createChallenge({ now: 10_000, random: replay([0, 0.3, 0.3]) }); // left, straight, right

  it('turned LFW photos measure as the turns they show; a mirrored photo turns the other way', () => {
    assert.ok(poseMatches('left', faces.get('barrosoLeft')!.pose), JSON.stringify(faces.get('barrosoLeft')!.pose));
    assert.ok(poseMatches('straight', faces.get('barrosoStraight')!.pose), JSON.stringify(faces.get('barrosoStraight')!.pose));
    assert.ok(poseMatches('right', faces.get('barrosoRight')!.pose), JSON.stringify(faces.get('barrosoRight')!.pose));
    const left = faces.get('thorpeLeft')!.pose, right = faces.get('thorpeRight')!.pose;
    assert.ok(left.yaw > 15 && right.yaw < -15);
    assert.ok(Math.abs(left.yaw + right.yaw) < 6, `mirroring negates yaw (${left.yaw} vs ${right.yaw})`);
    assert.ok(Math.abs(left.pitch - right.pitch) < 9, `and keeps pitch (${left.pitch} vs ${right.pitch})`);
    assert.ok(poseMatches('up', faces.get('capriatiUp')!.pose), JSON.stringify(faces.get('capriatiUp')!.pose));
    assert.ok(poseMatches('down', faces.get('phelpsDown')!.pose), JSON.stringify(faces.get('phelpsDown')!.pose));
  });

  it('a genuine sequence of one person matching the challenge passes (one frame per step)', () => {
    for (const who of ['barroso', 'thorpe']) {
      const result = checkChallenge(challenge(), [frame(`${who}Left`, 11_000), frame(`${who}Straight`, 12_000), frame(`${who}Right`, 13_000)], { now: 14_000 });
      assert.deepEqual(result, { ok: true, frameForStep: [0, 1, 2] }, who);
    }
  });

  it('a longer sequence passes when the steps appear in order among other frames', () => {
    const frames = ['barrosoStraight', 'barrosoLeft', 'barrosoLeft', 'barrosoStraight', 'barrosoStraight', 'barrosoRight'].map((k, i) => frame(k, 11_000 + i * 500));
    assert.deepEqual(checkChallenge(challenge(), frames, { now: 20_000 }), { ok: true, frameForStep: [1, 3, 5] });
  });

  it('a still photo repeated fails, whichever photo it is', () => {
    for (const key of ['barrosoStraight', 'barrosoLeft', 'barrosoRight']) {
      const result = checkChallenge(challenge(), [0, 1, 2, 3, 4, 5].map((i) => frame(key, 11_000 + i * 100)), { now: 14_000 });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, 'steps_not_completed');
    }
  });

  it('the right poses in the wrong order fail', () => {
    const result = checkChallenge(challenge(), [frame('barrosoRight', 11_000), frame('barrosoStraight', 12_000), frame('barrosoLeft', 13_000)], { now: 14_000 });
    assert.deepEqual(result, { ok: false, reason: 'steps_not_completed', completedSteps: 1 });
  });

  it('frames after expiry fail, as does a check after expiry', () => {
    const late = checkChallenge(challenge(), [frame('barrosoLeft', 11_000), frame('barrosoStraight', 12_000), frame('barrosoRight', 41_000)], { now: 39_000 });
    assert.equal(!late.ok && late.reason, 'frame_outside_lifetime');
    const expired = checkChallenge(challenge(), [frame('barrosoLeft', 11_000), frame('barrosoStraight', 12_000), frame('barrosoRight', 13_000)], { now: 40_001 });
    assert.equal(!expired.ok && expired.reason, 'expired');
    const early = checkChallenge(challenge(), [frame('barrosoLeft', 9_000), frame('barrosoStraight', 12_000), frame('barrosoRight', 13_000)], { now: 14_000 });
    assert.equal(!early.ok && early.reason, 'frame_outside_lifetime');
    const shuffled = checkChallenge(challenge(), [frame('barrosoLeft', 12_000), frame('barrosoStraight', 11_000), frame('barrosoRight', 13_000)], { now: 14_000 });
    assert.equal(!shuffled.ok && shuffled.reason, 'frames_out_of_order');
  });

  it('frames of two different people fail, even with the right poses', () => {
    const same = cosineSimilarity(faces.get('barrosoLeft')!.embedding, faces.get('barrosoRight')!.embedding);
    const other = cosineSimilarity(faces.get('barrosoLeft')!.embedding, faces.get('bushStraight')!.embedding);
    assert.ok(same > other, `${same} vs ${other}`);
    const result = checkChallenge(challenge(), [frame('barrosoLeft', 11_000), frame('bushStraight', 12_000), frame('barrosoRight', 13_000)], { now: 14_000 });
    assert.equal(!result.ok && result.reason, 'different_people');
    const swapped = checkChallenge(challenge(), [frame('thorpeLeft', 11_000), frame('barrosoStraight', 12_000), frame('thorpeRight', 13_000)], { now: 14_000 });
    assert.equal(!swapped.ok && swapped.reason, 'different_people');
  });

  it('no frames fail', () => {
    assert.deepEqual(checkChallenge(challenge(), [], { now: 11_000 }), { ok: false, reason: 'no_frames', completedSteps: 0 });
  });
});
