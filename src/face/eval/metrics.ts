// Biometric error rates from score lists. Pure functions, no I/O. Convention throughout: a pair is
// declared a match when its similarity is >= the threshold.
//   FMR(t)  = share of impostor scores >= t   (false match rate)
//   FNMR(t) = share of genuine scores  <  t   (false non-match rate)
//   TAR(t)  = 1 - FNMR(t); FAR is FMR under its older name.

export type Scores = ArrayLike<number>;

/** Ascending copy as Float64Array (exact for float32 inputs). */
export function sortedAscending(scores: Scores): Float64Array {
  return Float64Array.from(scores as ArrayLike<number>).sort();
}

/** Number of entries of an ascending array that are < t (binary search). */
export function countBelow(ascending: Float64Array, t: number): number {
  let lo = 0;
  let hi = ascending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ascending[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The next double above x: the smallest threshold that puts x on the non-match side. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

export function errorRates(genuineAsc: Float64Array, impostorAsc: Float64Array, threshold: number): { fmr: number; fnmr: number } {
  return {
    fmr: (impostorAsc.length - countBelow(impostorAsc, threshold)) / impostorAsc.length,
    fnmr: countBelow(genuineAsc, threshold) / genuineAsc.length,
  };
}

/**
 * The lowest threshold whose FMR is at most `targetFmr`: with N impostor scores at most
 * floor(targetFmr·N) of them may be >= t. Lowest, because any higher threshold only rejects more
 * genuine users. Returns -Infinity when every impostor may match.
 */
export function thresholdForFmr(impostorAsc: Float64Array, targetFmr: number): number {
  const n = impostorAsc.length;
  if (n === 0) throw new RangeError('no impostor scores');
  const allowed = Math.floor(targetFmr * n + 1e-9);
  if (allowed >= n) return -Infinity;
  // Scores ranked from the top: index n-1-allowed must be rejected, and all ties with it.
  return nextUp(impostorAsc[n - 1 - allowed]!);
}

export interface OperatingPoint {
  targetFmr: number;
  threshold: number;
  fmr: number;
  fnmr: number;
  /** False when the impostor set is too small for the target (fewer than 1/target scores). */
  measurable: boolean;
}

export function operatingPoint(genuineAsc: Float64Array, impostorAsc: Float64Array, targetFmr: number): OperatingPoint {
  const threshold = thresholdForFmr(impostorAsc, targetFmr);
  return { targetFmr, threshold, ...errorRates(genuineAsc, impostorAsc, threshold), measurable: impostorAsc.length * targetFmr >= 1 };
}

/** Threshold with the most correct decisions on a labelled set; midpoints between scores. */
export function bestAccuracyThreshold(genuine: Scores, impostor: Scores): { threshold: number; accuracy: number } {
  const g = sortedAscending(genuine);
  const i = sortedAscending(impostor);
  const candidates = sortedAscending([...g, ...i]);
  const total = g.length + i.length;
  // Start below everything: all genuine accepted, every impostor wrongly accepted.
  let best = { threshold: candidates.length > 0 ? candidates[0]! - 1e-6 : 0, accuracy: g.length / total };
  for (let k = 0; k < candidates.length; k++) {
    const score = candidates[k]!;
    if (k + 1 < candidates.length && candidates[k + 1] === score) continue;
    const t = k + 1 < candidates.length ? (score + candidates[k + 1]!) / 2 : score + 1e-6;
    const correct = g.length - countBelow(g, t) + countBelow(i, t);
    if (correct / total > best.accuracy) best = { threshold: t, accuracy: correct / total };
  }
  return best;
}

export interface FoldScores {
  genuine: number[];
  impostor: number[];
}

export interface KFoldResult {
  folds: Array<{ threshold: number; accuracy: number }>;
  mean: number;
  std: number;
}

/** LFW protocol: for each fold choose the threshold on the others, measure on it. */
export function kFoldAccuracy(folds: FoldScores[]): KFoldResult {
  if (folds.length < 2) throw new RangeError('k-fold needs at least two folds');
  const results = folds.map((test, k) => {
    const train = folds.filter((_, j) => j !== k);
    const { threshold } = bestAccuracyThreshold(train.flatMap((f) => f.genuine), train.flatMap((f) => f.impostor));
    const correct = test.genuine.filter((s) => s >= threshold).length + test.impostor.filter((s) => s < threshold).length;
    return { threshold, accuracy: correct / (test.genuine.length + test.impostor.length) };
  });
  const mean = results.reduce((sum, r) => sum + r.accuracy, 0) / results.length;
  const std = Math.sqrt(results.reduce((sum, r) => sum + (r.accuracy - mean) ** 2, 0) / results.length);
  return { folds: results, mean, std };
}

export interface DetPoint {
  threshold: number;
  fmr: number;
  fnmr: number;
}

/** Points of the DET curve, evenly spaced in log(FMR) from 1/N up to 1. */
export function detCurve(genuineAsc: Float64Array, impostorAsc: Float64Array, { points = 120 }: { points?: number } = {}): DetPoint[] {
  const lowest = Math.log10(1 / impostorAsc.length);
  const curve: DetPoint[] = [];
  for (let p = 0; p < points; p++) {
    const target = 10 ** (lowest + (-lowest * p) / (points - 1));
    const threshold = thresholdForFmr(impostorAsc, target);
    const rates = errorRates(genuineAsc, impostorAsc, threshold);
    const previous = curve[curve.length - 1];
    if (previous && previous.fmr === rates.fmr && previous.fnmr === rates.fnmr) continue;
    curve.push({ threshold, ...rates });
  }
  return curve;
}

/** Equal error rate: where FMR and FNMR cross (the mean of the two at the closest threshold). */
export function equalErrorRate(genuineAsc: Float64Array, impostorAsc: Float64Array): number {
  let lo = Math.min(genuineAsc[0] ?? 0, impostorAsc[0] ?? 0);
  let hi = Math.max(genuineAsc[genuineAsc.length - 1] ?? 1, impostorAsc[impostorAsc.length - 1] ?? 1) + 1e-9;
  for (let step = 0; step < 60; step++) {
    const mid = (lo + hi) / 2;
    const { fmr, fnmr } = errorRates(genuineAsc, impostorAsc, mid);
    if (fmr > fnmr) lo = mid;
    else hi = mid;
  }
  const { fmr, fnmr } = errorRates(genuineAsc, impostorAsc, hi);
  return (fmr + fnmr) / 2;
}
