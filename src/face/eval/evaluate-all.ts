// All against all: every image of the split embedded once, then every pair compared. With millions
// of impostor comparisons this reaches FMR 1e-5, which is where a shipped threshold has to be set
// (the 3,000 LFW pairs cannot say anything below 1e-3).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { embedImages, type EmbeddingCache, type EvalEngine } from './embed-images.ts';
import { detCurve, equalErrorRate, errorRates, operatingPoint, sortedAscending, type DetPoint, type OperatingPoint } from './metrics.ts';
import { allAgainstAllScores, packEmbeddings } from './scores.ts';

/** Facet's shipped operating point. */
export const SHIPPED_FMR = 1e-4;

export interface AllAgainstAllEvaluation {
  model: string;
  images: number;
  identities: number;
  failedToEnrol: number;
  failures: Record<string, number>;
  genuineComparisons: number;
  impostorComparisons: number;
  operatingPoints: OperatingPoint[];
  eer: number;
  /** The threshold for FMR <= 1e-4, rounded up to 3 decimals (rounding up only lowers FMR). */
  shipped: OperatingPoint;
  det: DetPoint[];
  /** Highest impostor score: any threshold above it flags no two different people of the set. */
  highestImpostor: number;
  /** Duplicate-enrolment detection at its threshold: impostor pairs it would flag, genuine pairs it would miss. */
  duplicates?: { threshold: number; falseMatches: number; fmr: number; fnmr: number };
  timing: { embedWallMs: number; meanAnalyzeMs: number; scoreMs: number; comparisonsPerSecond: number };
}

export interface EvaluateAllOptions {
  engine: EvalEngine;
  imagesDir: string;
  targets?: number[];
  /** Only the first n identity folders (sorted by name), for quick runs. */
  maxIdentities?: number;
  concurrency?: number;
  analyzeOptions?: Record<string, unknown>;
  /** Share with another evaluation over the same images so each is embedded once. */
  cache?: EmbeddingCache;
  /** Also report duplicate detection at this threshold (src/face/duplicates). */
  duplicateThreshold?: number;
}

export async function listIdentityImages(imagesDir: string, maxIdentities = Infinity): Promise<Array<{ file: string; identity: string }>> {
  const identities = (await readdir(imagesDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .slice(0, maxIdentities);
  const images: Array<{ file: string; identity: string }> = [];
  for (const identity of identities) {
    for (const file of (await readdir(path.join(imagesDir, identity))).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort()) {
      images.push({ file: path.join(identity, file), identity });
    }
  }
  return images;
}

export async function evaluateAllAgainstAll(options: EvaluateAllOptions): Promise<AllAgainstAllEvaluation> {
  const { engine, imagesDir, targets = [1e-3, 1e-4, 1e-5], maxIdentities, concurrency, analyzeOptions, cache, duplicateThreshold } = options;
  const images = await listIdentityImages(imagesDir, maxIdentities);
  const embedded = await embedImages(engine, imagesDir, images.map((i) => i.file), { ...(concurrency ? { concurrency } : {}), ...(analyzeOptions ? { analyzeOptions } : {}), ...(cache ? { cache } : {}) });
  const labelOf = new Map<string, number>();
  const kept: Float32Array[] = [];
  const labels: number[] = [];
  images.forEach((image, i) => {
    const embedding = embedded.embeddings[i];
    if (!embedding) return;
    if (!labelOf.has(image.identity)) labelOf.set(image.identity, labelOf.size);
    kept.push(embedding);
    labels.push(labelOf.get(image.identity)!);
  });

  const t0 = performance.now();
  const { genuine, impostor } = allAgainstAllScores(packEmbeddings(kept, labels));
  const scoreMs = performance.now() - t0;
  const g = sortedAscending(genuine);
  const m = sortedAscending(impostor);
  const exact = operatingPoint(g, m, SHIPPED_FMR);
  const rounded = Math.ceil(exact.threshold * 1000) / 1000;
  const shipped: OperatingPoint = { ...exact, threshold: rounded, ...errorRates(g, m, rounded) };
  const duplicates =
    duplicateThreshold === undefined
      ? undefined
      : (() => {
          const rates = errorRates(g, m, duplicateThreshold);
          return { threshold: duplicateThreshold, falseMatches: Math.round(rates.fmr * m.length), ...rates };
        })();
  return {
    model: engine.modelName,
    images: images.length,
    identities: new Set(images.map((i) => i.identity)).size,
    failedToEnrol: embedded.failedToEnrol,
    failures: embedded.failures,
    genuineComparisons: g.length,
    impostorComparisons: m.length,
    operatingPoints: targets.map((target) => operatingPoint(g, m, target)),
    eer: equalErrorRate(g, m),
    shipped,
    det: detCurve(g, m),
    highestImpostor: m.length ? m[m.length - 1]! : -1,
    ...(duplicates ? { duplicates } : {}),
    timing: {
      embedWallMs: embedded.wallMs,
      meanAnalyzeMs: embedded.meanAnalyzeMs,
      scoreMs,
      comparisonsPerSecond: (g.length + m.length) / (scoreMs / 1000),
    },
  };
}
