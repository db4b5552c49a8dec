// The LFW pairs protocol: k-fold accuracy (threshold chosen on the other folds) and TAR at
// FAR 1e-3. A pair with a picture the engine refuses scores -1: it counts as a non-match, which
// is what a user would experience, so refusals cost accuracy instead of being quietly dropped.
import { readFile } from 'node:fs/promises';
import { embedImages, type EmbeddingCache, type EvalEngine } from './embed-images.ts';
import { kFoldAccuracy, operatingPoint, sortedAscending, type FoldScores, type KFoldResult, type OperatingPoint } from './metrics.ts';
import { parsePairs, subsetPairs } from './pairs.ts';

export interface PairsEvaluation {
  model: string;
  pairs: number;
  images: number;
  folds: KFoldResult;
  tarAtFar1e3: OperatingPoint;
  failedToEnrol: number;
  failures: Record<string, number>;
  /** Pairs that include a refused picture. */
  pairsWithFailure: number;
  timing: { wallMs: number; meanAnalyzeMs: number };
}

export interface EvaluatePairsOptions {
  engine: EvalEngine;
  pairsFile: string;
  imagesDir: string;
  folds?: number;
  /** Use only this many pairs per fold (half matched, half mismatched), for quick runs. */
  pairsPerFold?: number;
  concurrency?: number;
  analyzeOptions?: Record<string, unknown>;
  /** Share with another evaluation over the same images so each is embedded once. */
  cache?: EmbeddingCache;
}

export async function evaluatePairs(options: EvaluatePairsOptions): Promise<PairsEvaluation> {
  const { engine, pairsFile, imagesDir, folds = 5, pairsPerFold, concurrency, analyzeOptions, cache } = options;
  let pairs = parsePairs(await readFile(pairsFile, 'utf8'), { folds });
  if (pairsPerFold) pairs = subsetPairs(pairs, pairsPerFold);
  const files = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const index = new Map(files.map((file, i) => [file, i]));
  const embedded = await embedImages(engine, imagesDir, files, { ...(concurrency ? { concurrency } : {}), ...(analyzeOptions ? { analyzeOptions } : {}), ...(cache ? { cache } : {}) });

  const foldScores: FoldScores[] = Array.from({ length: folds }, () => ({ genuine: [], impostor: [] }));
  let pairsWithFailure = 0;
  for (const pair of pairs) {
    const a = embedded.embeddings[index.get(pair.a)!];
    const b = embedded.embeddings[index.get(pair.b)!];
    let score = -1;
    if (a && b) {
      score = 0;
      for (let k = 0; k < a.length; k++) score += a[k]! * b[k]!;
    } else {
      pairsWithFailure += 1;
    }
    foldScores[pair.fold]![pair.genuine ? 'genuine' : 'impostor'].push(score);
  }
  const genuine = sortedAscending(foldScores.flatMap((f) => f.genuine));
  const impostor = sortedAscending(foldScores.flatMap((f) => f.impostor));
  return {
    model: engine.modelName,
    pairs: pairs.length,
    images: files.length,
    folds: kFoldAccuracy(foldScores),
    tarAtFar1e3: operatingPoint(genuine, impostor, 1e-3),
    failedToEnrol: embedded.failedToEnrol,
    failures: embedded.failures,
    pairsWithFailure,
    timing: { wallMs: embedded.wallMs, meanAnalyzeMs: embedded.meanAnalyzeMs },
  };
}
