// The evaluation over real LFW pictures with the real engine, on a subset small enough for the
// default suite. The full protocol runs in `npm run bench -- face`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createFaceEngine, type FaceEngine } from '../../src/face/index.ts';
import { asCameraFrame, EVAL_ENGINE_OPTIONS, evaluatePairs, runFaceEval, type EvalEngine } from '../../src/face/eval/index.ts';
import { DEFAULT_DUPLICATE_THRESHOLD } from '../../src/face/duplicates/index.ts';
import { CURRENT_PIPELINE_VERSION } from '../../src/face/pipeline.ts';
import { modelsDir, faceDataDir as dataDir } from '../support/shared-data.ts';
import { projectRoot } from '../support/facet.ts';


describe('face evaluation on an LFW subset', () => {
  let engine: FaceEngine;
  let out: string;
  before(async () => {
    engine = await createFaceEngine({ modelsDir, workers: 2, threadsPerWorker: 1, ...EVAL_ENGINE_OPTIONS });
    out = await mkdtemp(path.join(tmpdir(), 'facet-eval-'));
  });
  after(async () => {
    await engine.close();
    await rm(out, { recursive: true, force: true });
  });

  it('scores 60 pairs with honest 5-fold thresholds', async () => {
    const result = await evaluatePairs({ engine, pairsFile: path.join(dataDir, 'pairs.txt'), imagesDir: path.join(dataDir, 'images'), folds: 5, pairsPerFold: 12 });
    assert.equal(result.pairs, 60);
    assert.equal(result.folds.folds.length, 5);
    // A working pipeline separates nearly all of these; a broken alignment or colour order does not.
    assert.ok(result.folds.mean >= 0.9, `accuracy ${result.folds.mean}`);
    assert.ok(result.failedToEnrol <= 2, `failed to enrol ${result.failedToEnrol}`);
    for (const fold of result.folds.folds) assert.ok(fold.threshold > 0 && fold.threshold < 1);
    assert.equal(result.tarAtFar1e3.measurable, false, '30 impostor pairs cannot measure FAR 1e-3');
    assert.ok(result.timing.meanAnalyzeMs > 0);
  });

  it('runs the CLI-facing report end to end: tables, JSON and DET PNG', async () => {
    const lines: string[] = [];
    const report = await runFaceEval({
      pairs: path.join(dataDir, 'pairs.txt'),
      images: path.join(dataDir, 'images'),
      out: path.join(out, 'eval.json'),
      det: path.join(out, 'det.png'),
      engine,
      pairsPerFold: 4,
      maxIdentities: 25,
      log: (line) => lines.push(line),
    });
    const all = report.allAgainstAll!;
    assert.ok(all.images >= 25 && all.genuineComparisons > 0 && all.impostorComparisons > all.genuineComparisons);
    assert.equal(all.genuineComparisons + all.impostorComparisons, ((all.images - all.failedToEnrol) * (all.images - all.failedToEnrol - 1)) / 2);
    assert.deepEqual(all.operatingPoints.map((p) => p.targetFmr), [1e-3, 1e-4, 1e-5]);
    assert.ok(all.shipped.threshold >= all.operatingPoints[1]!.threshold);
    assert.ok(all.shipped.fmr <= 1e-4);
    const text = lines.join('\n');
    assert.match(text, /TAR at FAR 1e-3/);
    assert.match(text, /shipped threshold/);
    assert.match(text, new RegExp(`^pipeline version ${CURRENT_PIPELINE_VERSION}\\b`, 'm'));
    // Duplicate detection's figures on the same comparisons: flags below the highest impostor score only.
    assert.ok(all.highestImpostor > -1 && all.highestImpostor < 1);
    assert.equal(all.duplicates!.threshold, DEFAULT_DUPLICATE_THRESHOLD);
    assert.equal(all.duplicates!.falseMatches === 0, all.highestImpostor < DEFAULT_DUPLICATE_THRESHOLD);
    assert.match(text, /duplicate detection at 0\.\d{3}: \d+ impostor pairs flagged/);
    const json = JSON.parse(await readFile(path.join(out, 'eval.json'), 'utf8'));
    assert.equal(json.pairs.pairs, 20);
    assert.ok(!JSON.stringify(json).includes('"embedding"'));
    assert.equal((await sharp(path.join(out, 'det.png')).metadata()).format, 'png');
  });

  it('turns a photo into the camera page\'s frame: 640x480 JPEG, the photo in the middle, black at the sides', async () => {
    const photo = await readFile(path.join(dataDir, 'images', 'Aaron_Sorkin', 'Aaron_Sorkin_0001.jpg'));
    const frame = await asCameraFrame(photo);
    const meta = await sharp(frame).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 480]);
    const { data } = await sharp(frame).raw().toBuffer({ resolveWithObject: true });
    const channels = data.length / (640 * 480);
    let sides = 0;
    let centre = 0;
    let centrePixels = 0;
    for (let y = 0; y < 480; y++) {
      for (let x = 0; x < 640; x++) {
        const i = (y * 640 + x) * channels;
        const value = Math.max(data[i]!, data[i + 1]!, data[i + 2]!);
        // The photo spans x 80..559; the decoder's chroma upsampling tints the column next to it.
        if (x < 72 || x >= 568) sides = Math.max(sides, value);
        else if (x >= 240 && x < 400 && y >= 160 && y < 320) { centre += value; centrePixels += 1; }
      }
    }
    assert.ok(sides <= 4, `brightest side pixel ${sides}`);
    assert.ok(centre / centrePixels > 40, `centre mean ${centre / centrePixels}`);
  });

  it('refuses a --detector-size that is not a multiple of 32 from 64 to 1280', () => {
    const cli = (size: string) => spawnSync(process.execPath, [path.join(projectRoot, 'src/cli/main.ts'), 'face', 'eval', '--pairs', path.join(out, 'none.txt'), '--images', out, '--detector-size', size], { encoding: 'utf8', cwd: projectRoot, env: { ...process.env, FACET_MODELS_DIR: modelsDir } });
    const message = '--detector-size must be a whole number of pixels from 64 to 1280 and a multiple of 32 (e.g. 320 or 640)';
    for (const bad of ['100', '32', '1312', '320.5', '0x140']) {
      const refused = cli(bad);
      assert.equal(refused.status, 1, `--detector-size ${JSON.stringify(bad)}: ${refused.stderr}`);
      assert.ok(refused.stderr.includes(message), `--detector-size ${JSON.stringify(bad)}: ${refused.stderr}`);
    }
    // A good size passes the check and the command goes on to the (missing) pairs file.
    for (const good of ['64', '1280']) {
      const accepted = cli(good);
      assert.ok(!accepted.stderr.includes('--detector-size'), accepted.stderr);
      assert.match(accepted.stderr, /ENOENT.*none\.txt/);
    }
  });

  it('evaluates on camera frames, every image analysed once as a 640x480 JPEG', async () => {
    const seen: string[] = [];
    const watched: EvalEngine & { pipelineVersion: number } = {
      modelName: engine.modelName,
      pipelineVersion: engine.pipelineVersion,
      async analyze(image, options) {
        const meta = await sharp(image).metadata();
        seen.push(`${meta.format} ${meta.width}x${meta.height} ${createHash('sha256').update(image).digest('hex')}`);
        return engine.analyze(image, options);
      },
    };
    const lines: string[] = [];
    const report = await runFaceEval({ pairs: path.join(dataDir, 'pairs.txt'), images: path.join(dataDir, 'images'), engine: watched, cameraFrame: true, pairsPerFold: 2, maxIdentities: 8, log: (line) => lines.push(line) });
    assert.match(lines[0]!, /^pipeline version \d+, embedder \S+ \(camera frames 640x480\)$/);
    assert.equal(report.pairs.pairs, 10);
    assert.equal(report.pairs.failedToEnrol, 0, JSON.stringify(report.pairs.failures));
    assert.equal(report.allAgainstAll!.failedToEnrol, 0, JSON.stringify(report.allAgainstAll!.failures));
    assert.ok(report.allAgainstAll!.genuineComparisons > 0);
    assert.ok(seen.length > 0 && seen.every((s) => s.startsWith('jpeg 640x480 ')), seen.find((s) => !s.startsWith('jpeg 640x480 ')) ?? 'no images');
    // The cache by path still works: no frame is analysed twice.
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.length <= report.pairs.images + report.allAgainstAll!.images);
  });

  it('passes --detector-size through to the engine: 640 and 320 score the same frames differently', async () => {
    const run = async (detectorSize: number) => {
      const lines: string[] = [];
      const report = await runFaceEval({ pairs: path.join(dataDir, 'pairs.txt'), images: path.join(dataDir, 'images'), modelsDir, workers: 1, pipeline: { detectorSize }, cameraFrame: true, pairsPerFold: 2, maxIdentities: 6, log: (line) => lines.push(line) });
      return { report, first: lines[0]! };
    };
    const large = await run(640);
    const small = await run(320);
    assert.match(large.first, /^pipeline version \d+, embedder \S+ \{"detectorSize":640\} \(camera frames 640x480\)$/);
    assert.match(small.first, /\{"detectorSize":320\} \(camera frames 640x480\)$/);
    for (const { report } of [large, small]) assert.equal(report.pairs.failedToEnrol + report.allAgainstAll!.failedToEnrol, 0);
    // The same pictures and pairs; only the first detection's input size differs, so the scores do.
    assert.equal(large.report.allAgainstAll!.impostorComparisons, small.report.allAgainstAll!.impostorComparisons);
    assert.notEqual(large.report.allAgainstAll!.highestImpostor, small.report.allAgainstAll!.highestImpostor);
  });
});
