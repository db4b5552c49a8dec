// An embedder exported with a fixed batch of one (SFace's export is) runs through the same
// pipeline: its views go one per run, and the picture's embedding is the one the batched export of
// the same network gives. The fixed-batch model is the real MobileFaceNet with its declared batch
// set to 1 (test/support/onnx-fixed-batch.ts), listed in a manifest of its own and chosen by name,
// as `facet face eval --embedder` does.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeImage } from '../../src/face/decode.ts';
import { loadModels, readManifest, sha256File, type ModelManifest } from '../../src/face/models.ts';
import { analyzePicture } from '../../src/face/pipeline.ts';
import { createRunners } from '../../src/face/runners.ts';
import { cosineSimilarity } from '../../src/face/similarity.ts';
import { writeFixedBatchCopy } from '../support/onnx-fixed-batch.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

describe('an embedder with a fixed batch of one', () => {
  let dir: string;
  let manifest: ModelManifest;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'facet-fixed-batch-'));
    const shipped = await readManifest();
    const original = shipped.models.find((m) => m.name === 'mobilefacenet_foamliu')!;
    for (const m of shipped.models.filter((m) => m.required)) await copyFile(path.join(modelsDir, m.file), path.join(dir, m.file));
    await writeFixedBatchCopy(path.join(modelsDir, original.file), path.join(dir, 'mobilefacenet_fixed_batch.onnx'));
    const file = path.join(dir, 'mobilefacenet_fixed_batch.onnx');
    manifest = {
      ...shipped,
      models: [...shipped.models, { ...original, name: 'mobilefacenet_fixed_batch', required: false, file: 'mobilefacenet_fixed_batch.onnx', sha256: await sha256File(file), bytes: (await readFile(file)).length }],
    };
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is refused a batch of four by onnxruntime itself (so the one-at-a-time path is what makes it work)', async () => {
    const session = await ort.InferenceSession.create(path.join(dir, 'mobilefacenet_fixed_batch.onnx'));
    try {
      assert.deepEqual((session.inputMetadata[0] as { shape?: unknown[] }).shape, [1, 3, 112, 112]);
      await assert.rejects(session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(4 * 3 * 112 * 112), [4, 3, 112, 112]) }), /dimension|Got: 4/i);
    } finally {
      await session.release();
    }
  });

  it("gives a picture the same embedding as the batched export, through the pipeline's four-view batch", async () => {
    const batched = await loadModels({ dir, manifest });
    const fixed = await loadModels({ dir, manifest, embedder: 'mobilefacenet_fixed_batch' });
    assert.ok(batched.available && fixed.available);
    assert.equal(fixed.files.embedder, path.join(dir, 'mobilefacenet_fixed_batch.onnx'));
    const image = await decodeImage(await readFile(path.join(faceDataDir, 'images/Tony_Blair/Tony_Blair_0018.jpg')));
    const [a, b] = await Promise.all([createRunners(batched.files), createRunners(fixed.files)]);
    try {
      const viaBatch = await analyzePicture(image, a, { pipelineVersion: 3 });
      const oneByOne = await analyzePicture(image, b, { pipelineVersion: 3 });
      assert.equal(oneByOne.embedding.length, 128);
      assert.ok(cosineSimilarity(viaBatch.embedding, oneByOne.embedding) > 0.99999, 'the same embedding');
      for (let i = 0; i < 128; i += 1) assert.ok(Math.abs(viaBatch.embedding[i]! - oneByOne.embedding[i]!) < 1e-4, `component ${i}`);
    } finally {
      await Promise.all([a.release(), b.release()]);
    }
  });
});
