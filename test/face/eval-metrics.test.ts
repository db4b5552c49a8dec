import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  bestAccuracyThreshold,
  countBelow,
  detCurve,
  equalErrorRate,
  errorRates,
  kFoldAccuracy,
  nextUp,
  operatingPoint,
  sortedAscending,
  thresholdForFmr,
} from '../../src/face/eval/metrics.ts';
import { parsePairs, subsetPairs } from '../../src/face/eval/pairs.ts';
import { allAgainstAllScores, packEmbeddings } from '../../src/face/eval/scores.ts';
import { renderDetPng, renderDetSvg } from '../../src/face/eval/det-plot.ts';

const asc = (xs: number[]) => sortedAscending(xs);

describe('error-rate maths', () => {
  it('counts scores below a threshold; >= counts as a match', () => {
    const g = asc([0.1, 0.5, 0.5, 0.9]);
    assert.equal(countBelow(g, 0.5), 1);
    assert.equal(countBelow(g, nextUp(0.5)), 3);
    assert.deepEqual(errorRates(g, asc([0.0, 0.2, 0.5, 0.6]), 0.5), { fmr: 0.5, fnmr: 0.25 });
  });

  it('picks the lowest threshold that meets an FMR target', () => {
    // Ten impostors: FMR 0.1 allows exactly one (0.9) to match, so 0.8 must be rejected.
    const impostor = asc([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    const t = thresholdForFmr(impostor, 0.1);
    assert.ok(t > 0.8 && t <= 0.9);
    assert.equal(errorRates(asc([1]), impostor, t).fmr, 0.1);
    // FMR 0.05 allows none: the threshold must reject the top score too.
    assert.ok(thresholdForFmr(impostor, 0.05) > 0.9);
    assert.equal(thresholdForFmr(impostor, 1), -Infinity);
    // Ties at the boundary are all rejected, even if that undershoots the target.
    const tied = asc([0.1, 0.5, 0.5, 0.5]);
    assert.equal(errorRates(asc([1]), tied, thresholdForFmr(tied, 0.5)).fmr, 0);
  });

  it('reports FNMR at an FMR and whether the set can measure it', () => {
    const genuine = asc([0.3, 0.6, 0.85, 0.95]);
    const impostor = asc([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    const point = operatingPoint(genuine, impostor, 0.1);
    assert.equal(point.fnmr, 0.5);
    assert.equal(point.measurable, true);
    assert.equal(operatingPoint(genuine, impostor, 1e-3).measurable, false);
  });

  it('finds the accuracy-maximising threshold', () => {
    const { threshold, accuracy } = bestAccuracyThreshold([0.6, 0.7, 0.8, 0.35], [0.1, 0.2, 0.5, 0.55]);
    assert.equal(accuracy, 7 / 8);
    assert.ok(threshold > 0.55 && threshold < 0.6, `threshold ${threshold}`);
  });

  it('chooses each fold\'s threshold on the other folds only', () => {
    // Folds 0 and 1 separate at 0.5; fold 2 would separate at 0.75 but is measured with 0.5.
    const folds = [
      { genuine: [0.6, 0.7], impostor: [0.3, 0.4] },
      { genuine: [0.55, 0.9], impostor: [0.2, 0.45] },
      { genuine: [0.8, 0.9], impostor: [0.6, 0.7] },
    ];
    const result = kFoldAccuracy(folds);
    assert.equal(result.folds[2]!.accuracy, 0.5);
    assert.ok(result.folds[2]!.threshold < 0.55);
    assert.ok(Math.abs(result.mean - (result.folds[0]!.accuracy + result.folds[1]!.accuracy + 0.5) / 3) < 1e-12);
    assert.ok(result.std > 0);
  });

  it('traces a monotone DET curve and an equal error rate', () => {
    const genuine = asc(Array.from({ length: 1000 }, (_, i) => 0.5 + 0.5 * (i / 1000)));
    const impostor = asc(Array.from({ length: 10000 }, (_, i) => 0.6 * (i / 10000)));
    const curve = detCurve(genuine, impostor);
    assert.ok(curve.length > 10);
    for (let i = 1; i < curve.length; i++) {
      assert.ok(curve[i]!.fmr >= curve[i - 1]!.fmr);
      assert.ok(curve[i]!.fnmr <= curve[i - 1]!.fnmr);
    }
    // Overlap is [0.5, 0.6): EER where 1/6 of the impostor range equals the genuine share below t.
    const eer = equalErrorRate(genuine, impostor);
    assert.ok(eer > 0.05 && eer < 0.12, `eer ${eer}`);
  });
});

describe('all-against-all scoring', () => {
  it('splits every pair into genuine and impostor scores', () => {
    const e = (x: number, y: number) => Float32Array.from([x, y]);
    const set = packEmbeddings([e(1, 0), e(1, 0), e(0, 1), e(0.6, 0.8)], [0, 0, 1, 1]);
    const { genuine, impostor } = allAgainstAllScores(set);
    assert.deepEqual(Array.from(genuine).map((v) => Math.round(v * 100) / 100), [1, 0.8]);
    assert.deepEqual(Array.from(impostor).map((v) => Math.round(v * 100) / 100).sort(), [0, 0, 0.6, 0.6]);
  });
});

describe('pairs file', () => {
  const text = ['2\t2', 'A\t1\t2', 'B\t1\t3', 'A\t1\tC\t12', 'B\t2\tD\t1'].join('\n');
  it('parses matched and mismatched lines into folds', () => {
    const pairs = parsePairs(text, { folds: 2 });
    assert.equal(pairs.length, 4);
    assert.deepEqual(pairs[0], { fold: 0, genuine: true, a: 'A/A_0001.jpg', b: 'A/A_0002.jpg' });
    assert.deepEqual(pairs[3], { fold: 1, genuine: false, a: 'B/B_0002.jpg', b: 'D/D_0001.jpg' });
    assert.deepEqual(subsetPairs(pairs, 2).map((p) => p.a), ['A/A_0001.jpg', 'A/A_0001.jpg']);
  });
  it('refuses malformed files', () => {
    assert.throws(() => parsePairs('A\t1\t2\t3\t4\nB\t1\t2', { folds: 2 }), { code: 'face_eval_bad_pairs_file' });
    assert.throws(() => parsePairs('A\t1\t2', { folds: 2 }), { code: 'face_eval_bad_pairs_file' });
    assert.throws(() => parsePairs('../etc\t1\t2', { folds: 1 }), { code: 'face_eval_bad_pairs_file' });
  });
});

describe('DET plot', () => {
  it('renders log axes to SVG and PNG', async () => {
    const points = [{ threshold: 0.9, fmr: 1e-5, fnmr: 0.2 }, { threshold: 0.5, fmr: 1e-2, fnmr: 0.01 }];
    const svg = renderDetSvg([{ label: 'model <x>', points }], { markers: [{ fmr: 1e-4, label: 'shipped' }] });
    assert.match(svg, /1e-5/);
    assert.match(svg, /model &lt;x&gt;/);
    const png = await renderDetPng([{ label: 'm', points }]);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 800, 600]);
  });
});
