// The evaluation over real LFW pictures with the real engine, on a subset small enough for the
// default suite. The full protocol runs in `npm run bench -- face`.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createFaceEngine, type FaceEngine } from '../../src/face/index.ts';
import { EVAL_ENGINE_OPTIONS, evaluatePairs, runFaceEval } from '../../src/face/eval/index.ts';
import { DEFAULT_DUPLICATE_THRESHOLD } from '../../src/face/duplicates/index.ts';
import { CURRENT_PIPELINE_VERSION } from '../../src/face/pipeline.ts';
import { modelsDir, faceDataDir as dataDir } from '../support/shared-data.ts';


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
});
