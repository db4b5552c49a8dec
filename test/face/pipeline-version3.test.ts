// Pipeline version 3 (issue 15): the face is aligned twice — on the landmarks of a second detection
// at a resolution that suits the face, and on the first detection's — and each alignment is
// embedded with its mirror image, four views in one embedder batch, averaged after normalising
// each. One extra detection (version 2 needed two). Real models, one real LFW picture.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alignFace } from '../../src/face/align.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { embedderInput, l2Normalise } from '../../src/face/embed.ts';
import { loadModels } from '../../src/face/models.ts';
import { analyzePicture, CURRENT_PIPELINE_VERSION, detectFaces, PIPELINE_DEFAULTS, PIPELINE_VERSIONS, refineDetection, selectFace, type FaceRunners } from '../../src/face/pipeline.ts';
import { flipHorizontal, type RgbImage } from '../../src/face/pixels.ts';
import { createRunners } from '../../src/face/runners.ts';
import { cosineSimilarity } from '../../src/face/similarity.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

describe('face pipeline version 3', () => {
  let runners: FaceRunners & { release(): Promise<void> };
  let image: RgbImage;
  const calls = { detect: 0, embedBatches: [] as number[] };
  let counting: FaceRunners;

  before(async () => {
    const models = await loadModels({ dir: modelsDir });
    assert.ok(models.available);
    runners = await createRunners(models.files);
    counting = {
      livenessScales: runners.livenessScales,
      detect: (...args) => ((calls.detect += 1), runners.detect(...args)),
      embed: (tensor, count = 1) => (calls.embedBatches.push(count), runners.embed(tensor, count)),
      liveness: (tensors) => runners.liveness(tensors),
    };
    image = await decodeImage(readFileSync(path.join(faceDataDir, 'images/Tony_Blair/Tony_Blair_0018.jpg')));
  });
  after(() => runners?.release());

  it('is refined at 256 px, flipped, first-detection alignment averaged in (version 4 is the same with a smaller first detection)', () => {
    assert.equal(CURRENT_PIPELINE_VERSION, 4);
    assert.deepEqual(PIPELINE_VERSIONS[3], { refineFaceSize: 256, flip: 'mirror', firstLandmarks: true });
  });

  it('runs one extra detection and one embedder batch of four views, and averages them', async () => {
    calls.detect = 0;
    calls.embedBatches = [];
    const result = await analyzePicture(image, counting, { pipelineVersion: 3 });
    assert.equal(result.pipelineVersion, 3);
    assert.equal(calls.detect, 2, 'the picture, then the crop around the face');
    assert.deepEqual(calls.embedBatches, [4]);

    // The same four views made by hand from the two landmark sets.
    const o = { ...PIPELINE_DEFAULTS };
    const face = selectFace(await detectFaces(image, runners, { detectorSize: 640 }), image, o);
    const refined = await refineDetection(image, face, runners, { faceSize: 256 });
    assert.ok(refined, 'the crop shows the face');
    assert.deepEqual(result.landmarks, refined.landmarks, 'the reported landmarks are the refined ones');
    const onRefined = alignFace(image, refined.landmarks);
    const onFirst = alignFace(image, face.landmarks);
    const views = [onRefined, flipHorizontal(onRefined), onFirst, flipHorizontal(onFirst)];
    const batch = new Float32Array(4 * 3 * 112 * 112);
    views.forEach((v, i) => embedderInput(v, batch, i * 3 * 112 * 112));
    const raw = await runners.embed(batch, 4);
    const sum = new Float32Array(128);
    for (let i = 0; i < 4; i += 1) {
      const one = l2Normalise(Array.prototype.slice.call(raw, i * 128, (i + 1) * 128) as number[]);
      for (let k = 0; k < 128; k += 1) sum[k] += one[k]!;
    }
    assert.ok(cosineSimilarity(result.embedding, l2Normalise(sum)) > 0.99999);
    // Not the same as either alignment alone.
    const refinedOnly = l2Normalise(Array.prototype.slice.call(raw, 0, 128) as number[]);
    assert.ok(cosineSimilarity(result.embedding, refinedOnly) < 0.999);
  });

  it('firstLandmarks: false (the eval CLI\'s --first-landmarks off) leaves the refined alignment and its flip', async () => {
    calls.detect = 0;
    calls.embedBatches = [];
    await analyzePicture(image, counting, { pipelineVersion: 3, firstLandmarks: false });
    assert.equal(calls.detect, 2);
    assert.deepEqual(calls.embedBatches, [2]);
  });

  it('makes the older versions in the same pass for old templates (version 2: its own mirrored re-detection)', async () => {
    calls.detect = 0;
    calls.embedBatches = [];
    const both = await analyzePicture(image, counting, { pipelineVersion: 3, alsoEmbed: [1, 2] });
    assert.equal(calls.detect, 3, 'the picture, the crop, the mirrored crop (version 2 only)');
    assert.deepEqual(calls.embedBatches, [4 + 1 + 2]);
    const v2 = await analyzePicture(image, runners, { pipelineVersion: 2 });
    const v1 = await analyzePicture(image, runners, { pipelineVersion: 1 });
    assert.ok(cosineSimilarity(both.embeddings[2]!, v2.embedding) > 0.99999);
    assert.ok(cosineSimilarity(both.embeddings[1]!, v1.embedding) > 0.99999);
    assert.ok(cosineSimilarity(both.embeddings[3]!, both.embedding) > 0.99999);
  });
});
