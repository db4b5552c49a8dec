// Plain-text tables for the evaluation results (CLI and benchmark share them).
import type { AllAgainstAllEvaluation } from './evaluate-all.ts';
import type { PairsEvaluation } from './evaluate-pairs.ts';

const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const sci = (x: number) => (x === 0 ? '0' : x.toExponential(2));

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}

export function formatPairsReport(result: PairsEvaluation): string {
  const lines = [
    `LFW pairs (${result.model}): ${result.pairs} pairs, ${result.images} images, ${result.folds.folds.length}-fold`,
    table([
      ['fold', 'threshold', 'accuracy'],
      ...result.folds.folds.map((f, i) => [String(i + 1), f.threshold.toFixed(4), pct(f.accuracy)]),
      ['mean', '', `${pct(result.folds.mean)} ± ${pct(result.folds.std)}`],
    ]),
    `TAR at FAR 1e-3: ${pct(1 - result.tarAtFar1e3.fnmr)} (threshold ${result.tarAtFar1e3.threshold.toFixed(4)}${result.tarAtFar1e3.measurable ? '' : ', not measurable at this size'})`,
    `failed to enrol: ${result.failedToEnrol} images ${JSON.stringify(result.failures)}; pairs affected: ${result.pairsWithFailure}`,
    `time: ${(result.timing.wallMs / 1000).toFixed(1)} s wall, ${result.timing.meanAnalyzeMs.toFixed(1)} ms per image (engine, incl. queueing)`,
  ];
  return lines.join('\n');
}

export function formatAllReport(result: AllAgainstAllEvaluation): string {
  return [
    `All against all (${result.model}): ${result.images} images of ${result.identities} people; ` +
      `${result.genuineComparisons.toLocaleString('en')} genuine and ${result.impostorComparisons.toLocaleString('en')} impostor comparisons`,
    table([
      ['target FMR', 'threshold', 'measured FMR', 'FNMR', 'TAR'],
      ...result.operatingPoints.map((p) => [sci(p.targetFmr), p.threshold.toFixed(4), sci(p.fmr), pct(p.fnmr), pct(1 - p.fnmr)]),
    ]),
    `EER: ${pct(result.eer)}`,
    `shipped threshold (FMR <= 1e-4, rounded up): ${result.shipped.threshold.toFixed(3)} → FMR ${sci(result.shipped.fmr)}, FNMR ${pct(result.shipped.fnmr)}`,
    ...(result.duplicates
      ? [
          `duplicate detection at ${result.duplicates.threshold.toFixed(3)}: ${result.duplicates.falseMatches} impostor pairs flagged (FMR ${sci(result.duplicates.fmr)}), ` +
            `${pct(result.duplicates.fnmr)} of genuine pairs missed; highest impostor score ${result.highestImpostor.toFixed(4)}`,
        ]
      : [`highest impostor score: ${result.highestImpostor.toFixed(4)}`]),
    `failed to enrol: ${result.failedToEnrol} ${JSON.stringify(result.failures)}`,
    `time: embedding ${result.timing.meanAnalyzeMs === 0 ? 'reused from the pairs run' : `${(result.timing.embedWallMs / 1000).toFixed(1)} s`}, scoring ${(result.timing.scoreMs / 1000).toFixed(2)} s ` +
      `(${(result.timing.comparisonsPerSecond / 1e6).toFixed(1)} M comparisons/s)`,
  ].join('\n');
}
