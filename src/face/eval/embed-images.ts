// Embeds a list of image files with the face engine, a few at a time, keeping the refusals apart:
// a picture the engine refuses is a failure to enrol, not an error of the evaluation.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FaceRejected } from '../errors.ts';

/** What the evaluation needs of the face engine (src/face's FaceEngine satisfies it). */
export interface EvalEngine {
  modelName: string;
  analyze(image: Uint8Array, options?: Record<string, unknown>): Promise<{ embedding: Float32Array }>;
}

/**
 * Options for analysing research photos: measure recognition, not the sign-in quality gates.
 * LFW photos often show other people and turned heads; those gates are tested elsewhere.
 */
export const EVAL_ANALYZE_OPTIONS = { allowOtherFaces: true, requireFrontal: false };

/** Results by file path, shared between evaluations of the same images (each embedded once). */
export type EmbeddingCache = Map<string, { embedding: Float32Array } | { rejected: string }>;

export interface EmbedImagesOptions {
  concurrency?: number;
  analyzeOptions?: Record<string, unknown>;
  cache?: EmbeddingCache;
}

export interface EmbeddedImages {
  embeddings: Array<Float32Array | undefined>;
  /** Refusal code → number of images. */
  failures: Record<string, number>;
  failedToEnrol: number;
  /** Wall time for the batch, and mean time per image the engine took (images taken from the cache excluded). */
  wallMs: number;
  meanAnalyzeMs: number;
}

export async function embedImages(
  engine: EvalEngine,
  imagesDir: string,
  files: string[],
  { concurrency = 4, analyzeOptions = EVAL_ANALYZE_OPTIONS, cache = new Map() }: EmbedImagesOptions = {},
): Promise<EmbeddedImages> {
  const embeddings: Array<Float32Array | undefined> = Array.from({ length: files.length }, () => undefined);
  const failures: Record<string, number> = {};
  let analyzeMs = 0;
  let analyzed = 0;
  let next = 0;
  const started = performance.now();
  async function worker() {
    while (next < files.length) {
      const index = next++;
      const file = path.join(imagesDir, files[index]!);
      let known = cache.get(file);
      if (!known) {
        const bytes = await readFile(file);
        const t0 = performance.now();
        try {
          known = { embedding: (await engine.analyze(bytes, analyzeOptions)).embedding };
        } catch (error) {
          if (!(error instanceof FaceRejected)) throw error;
          known = { rejected: error.code };
        }
        analyzeMs += performance.now() - t0;
        analyzed += 1;
        cache.set(file, known);
      }
      if ('embedding' in known) embeddings[index] = known.embedding;
      else failures[known.rejected] = (failures[known.rejected] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const failedToEnrol = Object.values(failures).reduce((a, b) => a + b, 0);
  return { embeddings, failures, failedToEnrol, wallMs: performance.now() - started, meanAnalyzeMs: analyzed ? analyzeMs / analyzed : 0 };
}
