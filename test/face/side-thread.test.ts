// A worker's side thread (src/face/side-thread.ts) runs the liveness models and the views aligned
// on the first detection while the worker refines the landmarks. It must change nothing but the
// time: the same picture gives the same analysis with and without it, refusals included, for the
// current version and for older versions embedded alongside. And a side thread that dies must fail
// what it was doing rather than leave the worker waiting.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { cosineSimilarity, createFaceEngine, FaceEngineError, FaceRejected, loadModels, type FaceEngine } from '../../src/face/index.ts';
import { asCameraFrame } from '../../src/face/eval/camera-frame.ts';
import { createStopCells, stopWorker } from '../../src/face/native-guard.ts';
import { startSideThread } from '../../src/face/side-thread.ts';
import { modelsDir, faceDataDir } from '../support/shared-data.ts';

const lfw = (person: string, index: number) => readFile(path.join(faceDataDir, 'images', person, `${person}_${String(index).padStart(4, '0')}.jpg`));

describe('face worker side thread', { timeout: 120_000 }, () => {
  let withSide: FaceEngine;
  let alone: FaceEngine;
  before(async () => {
    withSide = await createFaceEngine({ modelsDir, workers: 1, sideThread: true, threadsPerWorker: 1 });
    alone = await createFaceEngine({ modelsDir, workers: 1, sideThread: false, threadsPerWorker: 1 });
  });
  after(async () => {
    await withSide?.close();
    await alone?.close();
  });

  test('the same pictures give the same analyses with and without it, older versions included', async () => {
    const pictures = [
      await lfw('Ian_Thorpe', 7),
      await lfw('Jose_Manuel_Durao_Barroso', 4),
      await asCameraFrame(await lfw('Andre_Agassi', 2)),
      await asCameraFrame(await lfw('Jennifer_Capriati', 32)),
    ];
    for (const picture of pictures) {
      const options = { alsoEmbed: [1, 2], requireFrontal: false };
      const [a, b] = [await withSide.analyze(picture, options), await alone.analyze(picture, options)];
      assert.deepEqual(a.box, b.box);
      assert.deepEqual(a.landmarks, b.landmarks);
      assert.deepEqual(a.pose, b.pose);
      assert.equal(a.quality, b.quality);
      // Two batches of two instead of one of four may round differently in the last bits.
      for (const version of [a.pipelineVersion, 1, 2]) assert.ok(cosineSimilarity(a.embeddings[version]!, b.embeddings[version]!) > 0.99999, `version ${version}`);
      assert.ok(Math.abs(a.passiveLiveness - b.passiveLiveness) < 1e-5);
      assert.notEqual(a.passiveLiveness, 0);
    }
  });

  test('refusals are the same', async () => {
    const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();
    const dark = await sharp(await lfw('Ian_Thorpe', 7)).linear(0.25, 0).jpeg().toBuffer();
    const turned = await lfw('Allan_Houston', 1);
    for (const [picture, code] of [[blank, 'no_face'], [dark, 'too_dark'], [turned, 'head_turned']] as const) {
      for (const engine of [withSide, alone]) {
        await assert.rejects(engine.analyze(picture), (error: unknown) => error instanceof FaceRejected && error.code === code);
      }
    }
    // The side thread's wasted work on a refused picture does not disturb the next analysis.
    const ok = await withSide.analyze(await lfw('Ian_Thorpe', 7), { requireFrontal: false });
    assert.equal(ok.embedding.length, 128);
  });

  test('a worker stopped for taking too long takes its side thread with it', async () => {
    // Threads of this process (Linux): a leaked side thread would stay counted.
    const threads = () => readdirSync('/proc/self/task').length;
    const picture = await lfw('Ian_Thorpe', 7);
    const engine = await createFaceEngine({ modelsDir, workers: 1, sideThread: true, threadsPerWorker: 1, timeoutMs: 2 });
    try {
      await assert.rejects(engine.analyze(picture), (e: unknown) => e instanceof FaceEngineError && e.code === 'face_worker_timeout');
      // Let the replacement start, then count; each timeout replaces a worker and its side thread.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const settled = threads();
      for (let i = 0; i < 3; i += 1) {
        await assert.rejects(engine.analyze(picture), (e: unknown) => e instanceof FaceEngineError && e.code === 'face_worker_timeout');
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.ok(threads() <= settled + 1, `threads ${threads()} after three timeouts, ${settled} after one`);
    } finally {
      await engine.close();
    }
  });

  test('a side thread that dies fails the calls in flight and reports its death', async () => {
    const models = await loadModels({ dir: modelsDir });
    assert.ok(models.available);
    let died: Error | undefined;
    const stopCells = createStopCells();
    const side = await startSideThread({ files: models.files, threads: 1, spinning: false, stopCells }, (error) => { died = error; });
    const embedding = await side.embed(new Float32Array(3 * 112 * 112).fill(0.1), 1);
    assert.equal(embedding.length, 128);
    // Stopped as the pool stops threads (outside onnxruntime: terminating one inside aborts the
    // process, test/face/worker-stop.test.ts). The call sent meanwhile is refused by the stopping
    // thread or, if the thread is gone first, failed by its death.
    const stopping = stopWorker(side.thread, stopCells);
    const inFlight = side.liveness([new Float32Array(3 * 80 * 80), new Float32Array(3 * 80 * 80)]);
    assert.equal(await stopping, 'terminated');
    await assert.rejects(inFlight, /side thread stopped|worker is stopping/);
    assert.match(died?.message ?? '', /side thread stopped/);
  });

  test('a side thread that cannot load its models refuses to start', async () => {
    const models = await loadModels({ dir: modelsDir });
    assert.ok(models.available);
    await assert.rejects(
      startSideThread({ files: { ...models.files, embedder: path.join(modelsDir, 'missing.onnx') }, threads: 1, spinning: false, stopCells: createStopCells() }, () => {}),
      /missing\.onnx|No such file|Load model/i,
    );
  });
});
