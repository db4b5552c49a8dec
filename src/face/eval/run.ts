// `facet face eval --pairs <file> --images <dir> [--out <json>] [--det <png>]`: measures the face
// engine on a labelled image set and prints the report. The JSON holds every figure and the DET
// curve's points; it holds no embeddings.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_DUPLICATE_THRESHOLD } from '../duplicates/detector.ts';
import { createFaceEngine } from '../index.ts';
import type { FlipMode } from '../pipeline.ts';
import { asCameraFrame, CAMERA_FRAME } from './camera-frame.ts';
import { renderDetPng } from './det-plot.ts';
import { EVAL_ANALYZE_OPTIONS, type EmbeddingCache, type EvalEngine } from './embed-images.ts';
import { evaluateAllAgainstAll, SHIPPED_FMR, type AllAgainstAllEvaluation } from './evaluate-all.ts';
import { evaluatePairs, type PairsEvaluation } from './evaluate-pairs.ts';
import { formatAllReport, formatPairsReport } from './report.ts';

/** Engine settings for research photos: the sign-in brightness/sharpness gates are off (see embed-images.ts). */
export const EVAL_ENGINE_OPTIONS = { minFaceSize: 32, pipeline: { minBrightness: 0, minSharpness: 0 } };

export interface RunFaceEvalOptions {
  /** pairs.txt in LFW format. */
  pairs: string;
  /** Folder of <Name>/<Name>_<NNNN>.jpg. */
  images: string;
  /** Where to write the JSON report (optional). */
  out?: string;
  /** Where to write the DET curve as PNG (optional). */
  det?: string;
  /** Needed unless `engine` is given. */
  modelsDir?: string;
  /** An embedder of models/manifest.json other than the required one (run with its own preprocessing). */
  embedder?: string;
  engine?: EvalEngine;
  folds?: number;
  /** Also compare every image with every other (default true). */
  allAgainstAll?: boolean;
  workers?: number;
  /**
   * Which pipeline to measure: a version (default the current one), optionally with its
   * refinement size, flip averaging or first-detection size overridden to compare alternatives.
   */
  pipeline?: { pipelineVersion?: number; refineFaceSize?: number; flip?: FlipMode; firstLandmarks?: boolean; detectorSize?: number };
  /** Analyse each image as the camera page would send it (src/face/eval/camera-frame.ts). */
  cameraFrame?: boolean;
  /** Quick runs: only this many pairs per fold, and the first n identities for all-against-all. */
  pairsPerFold?: number;
  maxIdentities?: number;
  log?: (line: string) => void;
}

export interface FaceEvalReport {
  pairs: PairsEvaluation;
  allAgainstAll?: AllAgainstAllEvaluation;
}

export async function runFaceEval(options: RunFaceEvalOptions): Promise<FaceEvalReport> {
  const { pairs, images, out, det, modelsDir, embedder, folds = 5, allAgainstAll = true, workers = 2, pairsPerFold, maxIdentities, pipeline = {}, cameraFrame = false, log = console.log } = options;
  let engine = options.engine;
  let close = async () => {};
  if (!engine) {
    if (!modelsDir) throw new Error('runFaceEval needs modelsDir (the face models folder) or an engine');
    const created = await createFaceEngine({ modelsDir, workers, threadsPerWorker: 1, ...EVAL_ENGINE_OPTIONS, pipeline: { ...EVAL_ENGINE_OPTIONS.pipeline, ...pipeline }, ...(embedder ? { embedder } : {}) });
    engine = created;
    close = () => created.close();
  }
  // The cache stays keyed by the file's path: the frame is a deterministic function of the file.
  if (cameraFrame) engine = withCameraFrames(engine);
  try {
    const analyzeOptions = EVAL_ANALYZE_OPTIONS;
    const cache: EmbeddingCache = new Map();
    const report: FaceEvalReport = { pairs: await evaluatePairs({ engine, pairsFile: pairs, imagesDir: images, folds, analyzeOptions, cache, ...(pairsPerFold ? { pairsPerFold } : {}) }) };
    const model = 'modelName' in engine && typeof engine.modelName === 'string' ? `, embedder ${engine.modelName}` : '';
    log(`pipeline version ${'pipelineVersion' in engine && typeof engine.pipelineVersion === 'number' ? engine.pipelineVersion : '?'}${model}${Object.keys(pipeline).length ? ` ${JSON.stringify(pipeline)}` : ''}${cameraFrame ? ` (camera frames ${CAMERA_FRAME.width}x${CAMERA_FRAME.height})` : ''}`);
    log(formatPairsReport(report.pairs));
    if (allAgainstAll) {
      report.allAgainstAll = await evaluateAllAgainstAll({ engine, imagesDir: images, analyzeOptions, cache, duplicateThreshold: DEFAULT_DUPLICATE_THRESHOLD, ...(maxIdentities ? { maxIdentities } : {}) });
      log('');
      log(formatAllReport(report.allAgainstAll));
      if (det) {
        await mkdir(path.dirname(det), { recursive: true });
        await writeFile(
          det,
          await renderDetPng([{ label: `${report.allAgainstAll.model} (all against all)`, points: report.allAgainstAll.det }], {
            title: `DET, ${report.allAgainstAll.images} images, ${report.allAgainstAll.impostorComparisons.toLocaleString('en')} impostor pairs`,
            markers: [{ fmr: SHIPPED_FMR, label: `shipped ${report.allAgainstAll.shipped.threshold.toFixed(3)}` }],
          }),
        );
        log(`DET curve: ${det}`);
      }
    }
    if (out) {
      await mkdir(path.dirname(out), { recursive: true });
      await writeFile(out, JSON.stringify(report, null, 2));
      log(`report: ${out}`);
    }
    return report;
  } finally {
    await close();
  }
}

function withCameraFrames(engine: EvalEngine): EvalEngine {
  return {
    modelName: engine.modelName,
    ...('pipelineVersion' in engine ? { pipelineVersion: engine.pipelineVersion } : {}),
    analyze: async (image, options) => engine.analyze(await asCameraFrame(image), options),
  };
}
