// The face engine end to end with the real models (FACET_MODELS_DIR) and real LFW faces
// (FACET_FACE_DATA_DIR): matching, every rejection reason from a crafted picture, the worker pool,
// and the model checks.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { cosineSimilarity, createFaceEngine, FaceEngineError, FaceModelsUnavailable, FaceRejected, fetchModels, loadModels, ModelFetchError, readManifest, type FaceAnalysis, type FaceEngine } from '../../src/face/index.ts';
import { createWorkerPool } from '../../src/face/pool.ts';
import { modelsDir, faceDataDir } from '../support/shared-data.ts';
import { projectRoot } from '../support/facet.ts';
import { spawnSync } from 'node:child_process';

const lfw = (person: string, index: number) => readFile(path.join(faceDataDir, 'images', person, `${person}_${String(index).padStart(4, '0')}.jpg`));
const grey = { r: 128, g: 128, b: 128 };

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FaceRejected, `expected FaceRejected, got ${error}`);
    return error.code;
  }
  assert.fail('expected a rejection');
}

describe('face engine', () => {
  let engine: FaceEngine;
  before(async () => {
    engine = await createFaceEngine({ modelsDir, workers: 2 });
  });
  after(() => engine.close());

  it('names its model and embedding size', () => {
    assert.equal(engine.modelName, 'mobilefacenet_foamliu');
    assert.equal(engine.embeddingSize, 128);
  });

  it('analyses a face: box, five landmarks, frontal pose, quality, unit-length embedding, passive score', async () => {
    const face = await engine.analyze(await lfw('Aaron_Sorkin', 1));
    assert.ok(face.box.x > 30 && face.box.x < 120 && face.box.width > 60 && face.box.width < 160, JSON.stringify(face.box));
    assert.equal(face.landmarks.length, 5);
    const [rightEye, leftEye, nose] = face.landmarks;
    assert.ok(rightEye[0] < nose[0] && nose[0] < leftEye[0], 'eyes either side of the nose, image-left eye first');
    assert.ok(face.score > 0.8);
    assert.ok(face.quality > 0 && face.quality <= 1);
    assert.ok(face.passiveLiveness >= 0 && face.passiveLiveness <= 1);
    assert.equal(face.embedding.length, 128);
    const norm = Math.hypot(...face.embedding);
    assert.ok(Math.abs(norm - 1) < 1e-4);
  });

  it('same person matches, different people do not (LFW pairs)', async () => {
    const same: Array<[string, number, number]> = [['Aaron_Sorkin', 1, 2], ['Abel_Pacheco', 1, 4], ['Akhmed_Zakayev', 1, 3], ['Amber_Tamblyn', 1, 2], ['Anders_Fogh_Rasmussen', 1, 3]];
    const people = await Promise.all(same.map(async ([who, i, j]) => [await engine.analyze(await lfw(who, i), { requireFrontal: false }), await engine.analyze(await lfw(who, j), { requireFrontal: false })] as const));
    const threshold = (await readManifest()).models.find((m) => m.name === 'mobilefacenet_foamliu')!.defaultThreshold!;
    for (const [k, [a, b]] of people.entries()) assert.ok(cosineSimilarity(a.embedding, b.embedding) > threshold, `${same[k][0]} should match`);
    for (let k = 0; k < people.length; k += 1) {
      for (let m = k + 1; m < people.length; m += 1) {
        const score = cosineSimilarity(people[k][0].embedding, people[m][1].embedding);
        assert.ok(score < threshold, `${same[k][0]} vs ${same[m][0]}: ${score}`);
      }
    }
  });

  it('reports boxes in the uploaded picture\'s pixels when it was shrunk for analysis', async () => {
    const big = await sharp(await lfw('Aaron_Sorkin', 1)).resize(2000, 2000).jpeg().toBuffer();
    const [small, large] = [await engine.analyze(await lfw('Aaron_Sorkin', 1)), await engine.analyze(big)];
    assert.ok(Math.abs(large.box.x / 8 - small.box.x) < 4, `${large.box.x / 8} vs ${small.box.x}`);
    assert.ok(cosineSimilarity(small.embedding, large.embedding) > 0.9);
  });

  describe('refuses pictures it cannot use, with the reason', () => {
    it('blank picture → no_face', async () => {
      const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: grey } }).jpeg().toBuffer();
      assert.equal(await rejection(engine.analyze(blank)), 'no_face');
    });

    it('two faces side by side → multiple_faces', async () => {
      const pair = await sharp({ create: { width: 500, height: 250, channels: 3, background: grey } })
        .composite([{ input: await lfw('Aaron_Sorkin', 1), left: 0, top: 0 }, { input: await lfw('Abel_Pacheco', 1), left: 250, top: 0 }])
        .jpeg().toBuffer();
      assert.equal(await rejection(engine.analyze(pair)), 'multiple_faces');
    });

    it('a face scaled tiny into a big canvas → face_too_small', async () => {
      const tiny = await sharp(await lfw('Aaron_Sorkin', 1)).resize(110, 110).toBuffer();
      const canvas = await sharp({ create: { width: 640, height: 480, channels: 3, background: grey } }).composite([{ input: tiny, left: 265, top: 185 }]).jpeg().toBuffer();
      assert.equal(await rejection(engine.analyze(canvas)), 'face_too_small');
    });

    it('a face shifted half out of the frame → face_cut_off', async () => {
      const cut = await sharp(await lfw('Aaron_Sorkin', 1)).extract({ left: 115, top: 0, width: 135, height: 250 }).jpeg().toBuffer();
      assert.equal(await rejection(engine.analyze(cut)), 'face_cut_off');
    });

    it('darkened → too_dark', async () => {
      const dark = await sharp(await lfw('Aaron_Sorkin', 1)).linear(0.25, 0).jpeg().toBuffer();
      assert.equal(await rejection(engine.analyze(dark)), 'too_dark');
    });

    it('heavily blurred → too_blurred', async () => {
      const blurred = await sharp(await lfw('Aaron_Sorkin', 1)).blur(3).jpeg().toBuffer();
      assert.equal(await rejection(engine.analyze(blurred)), 'too_blurred');
    });

    it('head turned far to one side → head_turned (unless frontal is not required)', async () => {
      const turned = await lfw('Allan_Houston', 1);
      assert.equal(await rejection(engine.analyze(turned)), 'head_turned');
      const face = await engine.analyze(turned, { requireFrontal: false });
      assert.ok(face.pose.yaw < -30);
    });

    it('truncated JPEG → image_corrupt, text → image_unsupported_format, huge header → image_too_many_pixels', async () => {
      const photo = await lfw('Aaron_Sorkin', 1);
      assert.equal(await rejection(engine.analyze(photo.subarray(0, photo.length >> 1))), 'image_corrupt');
      assert.equal(await rejection(engine.analyze(Buffer.from('hello, I am a text file\n'))), 'image_unsupported_format');
      const header = await sharp({ create: { width: 16, height: 16, channels: 3, background: grey } }).png().toBuffer();
      header.writeUInt32BE(20000, 16); // IHDR width
      header.writeUInt32BE(20000, 20); // IHDR height (CRC now wrong: must still be refused by size, not decoded)
      const code = await rejection(engine.analyze(header));
      assert.ok(code === 'image_too_many_pixels' || code === 'image_corrupt', code);
    });
  });

  it('reports its pool: two workers on this machine, side threads only with two cores for each', () => {
    assert.equal(engine.workers, 2);
    assert.equal(engine.sideThread, availableParallelism() >= 4);
  });

  it('serves concurrent calls from its worker pool with the same results as one at a time', async () => {
    const photos = await Promise.all([lfw('Aaron_Sorkin', 1), lfw('Abel_Pacheco', 1), lfw('Amber_Tamblyn', 1), lfw('Aaron_Sorkin', 2)]);
    const sequential: FaceAnalysis[] = [];
    for (const photo of photos) sequential.push(await engine.analyze(photo, { requireFrontal: false }));
    const concurrent = await Promise.all([...photos, ...photos, ...photos].map((photo) => engine.analyze(photo, { requireFrontal: false })));
    concurrent.forEach((face, i) => assert.ok(cosineSimilarity(face.embedding, sequential[i % photos.length].embedding) > 0.9999));
    // A refusal in the middle of a burst does not disturb the others.
    const mixed = await Promise.allSettled([engine.analyze(photos[0]), engine.analyze(Buffer.from('nope')), engine.analyze(photos[1])]);
    assert.deepEqual(mixed.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('worker pool', () => {
  // A stand-in worker speaking the pool's protocol: crashes or hangs on request.
  const source = `
    const { parentPort } = require('node:worker_threads');
    parentPort.postMessage({ type: 'ready' });
    parentPort.on('message', (m) => {
      if (m.crash) process.exit(3);
      if (m.hang) for (;;) {}
      parentPort.postMessage({ type: 'result', id: m.id, echo: m.value });
    });`;

  it('replaces a crashed worker and fails only the request it was serving', async () => {
    const pool = createWorkerPool({ size: 1, spawn: () => new Worker(source, { eval: true }) });
    try {
      await pool.ready();
      const crashed = pool.run({ crash: true });
      await assert.rejects(crashed, (e: unknown) => e instanceof FaceEngineError && e.code === 'face_worker_crashed');
      const reply = await pool.run<{ echo: number }>({ value: 7 });
      assert.equal(reply.echo, 7);
      assert.equal(pool.spawned, 2);
    } finally {
      await pool.close();
    }
  });

  it('kills a hung worker after the timeout instead of waiting forever', async () => {
    const pool = createWorkerPool({ size: 1, timeoutMs: 200, spawn: () => new Worker(source, { eval: true }) });
    try {
      await pool.ready();
      await assert.rejects(pool.run({ hang: true }), (e: unknown) => e instanceof FaceEngineError && e.code === 'face_worker_timeout');
      assert.equal((await pool.run<{ echo: number }>({ value: 1 })).echo, 1);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.run({ value: 2 }), (e: unknown) => e instanceof FaceEngineError && e.code === 'face_engine_closed');
  });
});

describe('models', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'facet-models-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the manifest lists every shared model with its sha256', async () => {
    const manifest = await readManifest();
    const loaded = await loadModels({ dir: modelsDir, manifest });
    assert.equal(loaded.available, true);
    assert.equal(manifest.models.length, 6);
    for (const model of manifest.models) assert.match(model.sha256, /^[0-9a-f]{64}$/);
  });

  it('SFace is listed as the embedder recommended for production, and every embedder names its preprocessing', async () => {
    const manifest = await readManifest();
    const sface = manifest.models.find((m) => m.name === 'sface_2021dec');
    assert.ok(sface, 'an SFace entry');
    assert.equal(sface.role, 'embedder');
    assert.equal(sface.required, false, 'optional: the default stays the measured MobileFaceNet');
    assert.match(sface.recommended ?? '', /recommended for production/);
    assert.deepEqual(sface.preprocess, { channelOrder: 'RGB', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] });
    assert.equal(sface.embeddingSize, 128);
    for (const embedder of manifest.models.filter((m) => m.role === 'embedder')) {
      const p = embedder.preprocess;
      assert.ok(p && (p.channelOrder === 'RGB' || p.channelOrder === 'BGR') && p.scale > 0 && p.mean.length === 3 && p.std.length === 3 && p.std.every((v) => v > 0), `${embedder.name} names its preprocessing`);
    }
  });

  it('choosing an embedder: a missing optional one says how to fetch it, an unknown name lists the embedders', async () => {
    const missing = await loadModels({ dir: modelsDir, embedder: 'sface_2021dec' });
    assert.equal(missing.available, false);
    assert.match(missing.available ? '' : missing.reason, /sface_2021dec is missing \(.*face_recognition_sface_2021dec\.onnx\)\. Run `node scripts\/fetch-models\.ts .* --all`/);
    const unknown = await loadModels({ dir: modelsDir, embedder: 'no_such_model' });
    assert.match(unknown.available ? '' : unknown.reason, /no embedder named no_such_model \(embedders: mobilefacenet_foamliu, sface_2021dec\)/);
    // The command line says the same and exits non-zero.
    const cli = spawnSync(process.execPath, [path.join(projectRoot, 'src/cli/main.ts'), 'face', 'eval', '--pairs', path.join(faceDataDir, 'pairs.txt'), '--images', path.join(faceDataDir, 'images'), '--embedder', 'sface_2021dec', '--quick'], { encoding: 'utf8', cwd: projectRoot, env: { ...process.env, FACET_MODELS_DIR: modelsDir } });
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr + cli.stdout, /sface_2021dec is missing/);
  });

  it('the chosen embedder runs with the preprocessing its manifest entry names', async () => {
    // Two more entries for the same MobileFaceNet file: one with its own preprocessing under
    // another name, one with SFace's (raw 0..255). The first must embed exactly as the default,
    // the second differently: the pipeline follows the entry, not a constant.
    const manifest = await readManifest();
    const base = manifest.models.find((m) => m.name === 'mobilefacenet_foamliu')!;
    const sface = manifest.models.find((m) => m.name === 'sface_2021dec')!;
    const test = { ...manifest, models: [...manifest.models, { ...base, name: 'same_preprocess', required: false }, { ...base, name: 'raw_preprocess', required: false, preprocess: sface.preprocess! }] };
    const photo = await lfw('Aaron_Sorkin', 1);
    const embed = async (embedder?: string) => {
      const engine = await createFaceEngine({ modelsDir, workers: 1, manifest: test, ...(embedder ? { embedder } : {}) });
      try {
        return { name: engine.modelName, embedding: (await engine.analyze(photo)).embedding };
      } finally {
        await engine.close();
      }
    };
    const reference = await embed();
    const same = await embed('same_preprocess');
    const raw = await embed('raw_preprocess');
    assert.equal(reference.name, 'mobilefacenet_foamliu');
    assert.equal(same.name, 'same_preprocess');
    assert.equal(raw.name, 'raw_preprocess');
    assert.ok(cosineSimilarity(reference.embedding, same.embedding) > 0.99999, 'the same preprocessing gives the same embedding');
    assert.ok(cosineSimilarity(reference.embedding, raw.embedding) < 0.99, `another preprocessing gives another embedding (${cosineSimilarity(reference.embedding, raw.embedding)})`);
  });

  it('a missing model disables the engine with a clear message', async () => {
    const loaded = await loadModels({ dir });
    assert.equal(loaded.available, false);
    assert.match(loaded.available ? '' : loaded.reason, /yunet_s_dynamic is missing/);
    await assert.rejects(createFaceEngine({ modelsDir: dir }), (e: unknown) => e instanceof FaceModelsUnavailable && /missing/.test(e.message));
  });

  it('a corrupt model is refused before any session is created', async () => {
    const manifest = await readManifest();
    for (const model of manifest.models.filter((m) => m.required)) await copyFile(path.join(modelsDir, model.file), path.join(dir, model.file));
    assert.equal((await loadModels({ dir })).available, true);
    const embedder = path.join(dir, 'mobilefacenet_foamliu.onnx');
    const bytes = await readFile(embedder);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(embedder, bytes);
    await assert.rejects(createFaceEngine({ modelsDir: dir }), (e: unknown) => e instanceof FaceModelsUnavailable && /mobilefacenet_foamliu does not match its sha256/.test(e.message));
  });

  it('fetchModels keeps verified files, replaces a corrupt one, and refuses a download with the wrong hash', async () => {
    // A local HTTP server stands in for GitHub: it serves the shared models, and garbage for one path.
    const server = createServer(async (req, res) => {
      const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
      if (name === 'bad.onnx') return res.end('not a model');
      try {
        res.end(await readFile(path.join(modelsDir, path.basename(name))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const manifest = await readManifest();
      const local = { ...manifest, models: manifest.models.map((m) => ({ ...m, url: `${base}/${m.file}` })) };
      const result = await fetchModels({ dir, manifest: local });
      assert.deepEqual(result.downloaded, ['mobilefacenet_foamliu']); // the file corrupted above
      assert.equal(result.present.length, 3);
      assert.equal((await loadModels({ dir })).available, true);

      const wrong = { ...local, models: [{ ...local.models[0], file: 'other.onnx', url: `${base}/bad.onnx` }] };
      await assert.rejects(fetchModels({ dir, manifest: wrong }), (e: unknown) => e instanceof ModelFetchError && /sha256/.test(e.message));
      await assert.rejects(readFile(path.join(dir, 'other.onnx')), /ENOENT/);
    } finally {
      server.close();
    }
  });
});
