// The face engine the rest of Facet uses: verifies the models, starts the inference workers, and
// turns an uploaded picture into a FaceAnalysis (or a FaceRejected with the reason).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { decodeImage, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS } from './decode.ts';
import { FaceEngineError, FaceModelsUnavailable, FaceRejected, type FaceRejectionCode } from './errors.ts';
import { loadModels, type ModelManifest } from './models.ts';
import { CURRENT_PIPELINE_VERSION, PIPELINE_DEFAULTS, type PipelineOptions, type PipelineResult } from './pipeline.ts';
import { createStopCells, stopWorker } from './native-guard.ts';
import { createWorkerPool } from './pool.ts';
import type { AnalyzeRequest, WorkerInit, WorkerReply } from './worker.ts';

export interface FaceEngineOptions {
  /** Directory holding the model files named in models/manifest.json. */
  modelsDir: string;
  /** Inference worker threads (default 2). */
  workers?: number;
  /** Largest accepted upload in bytes (default 5 MiB). */
  maxBytes?: number;
  /** Largest accepted width x height (default 4096 x 4096), checked from the header before decoding. */
  maxPixels?: number;
  /** Smallest accepted face, shorter side of the face box in pixels (default 64). */
  minFaceSize?: number;
  /**
   * onnxruntime threads per worker (default: cores / workers, at least 1). One thread per worker
   * held up best when the machine was busy: 2 threads per session doubled p95 under load.
   */
  threadsPerWorker?: number;
  /**
   * Give each worker a second thread for the liveness models and the views aligned on the first
   * detection, which then run while the worker refines the landmarks (default: when the machine has
   * at least two cores per worker). One analysis then uses two cores without intra-op threads,
   * which small models barely use.
   */
  sideThread?: boolean;
  /** Let onnxruntime's idle threads spin-wait (default false; see runners.ts). */
  spinning?: boolean;
  /** A request unanswered this long fails; its worker is stopped once outside onnxruntime and replaced (default 15 s). */
  timeoutMs?: number;
  /**
   * Pictures allowed to wait for a worker (default 64). Beyond that `analyze` fails at once with
   * FaceEngineError `face_engine_busy` (503, Retry-After) rather than waiting towards a timeout.
   * A check analyses its frames one after another, so this is about the number of checks waiting.
   */
  maxQueued?: number;
  /** Pictures are shrunk to this long side before analysis (default 1280). */
  workingSize?: number;
  /** Overrides for the pipeline's thresholds (brightness, sharpness, pose...). */
  pipeline?: Omit<PipelineOptions, 'requireFrontal' | 'minFaceSize' | 'alsoEmbed'>;
  /** Alternative manifest (tests); defaults to models/manifest.json. */
  manifest?: ModelManifest;
  /** An embedder of the manifest other than the required one (evaluation: `facet face eval --embedder`). */
  embedder?: string;
}

/** What `analyze` returns for one picture (fields documented on PipelineResult). */
export type FaceAnalysis = PipelineResult;

export interface AnalyzeOptions {
  /** Refuse turned heads with `head_turned` (default true). Liveness-challenge frames pass false. */
  requireFrontal?: boolean;
  /** Accept other faces in view and analyse the most central one (photo-collection evaluation only). */
  allowOtherFaces?: boolean;
  /**
   * Pipeline versions to embed besides the current one, e.g. the version an enrolled template was
   * made with, so it is compared like with like (`FaceAnalysis.embeddings[version]`).
   */
  alsoEmbed?: number[];
}

export interface FaceEngine {
  /** Stored with each template so a model change can be detected. */
  readonly modelName: string;
  /** The pipeline version `analyze` makes `embedding` with (stored with each template). */
  readonly pipelineVersion: number;
  readonly embeddingSize: number;
  /** Inference worker threads, and whether each has a side thread (see side-thread.ts). */
  readonly workers: number;
  readonly sideThread: boolean;
  /** Throws FaceRejected for a picture that cannot be used, FaceEngineError for infrastructure faults. */
  analyze(image: Uint8Array, opts?: AnalyzeOptions): Promise<FaceAnalysis>;
  close(): Promise<void>;
}

export async function createFaceEngine({
  modelsDir,
  workers = 2,
  maxBytes = DEFAULT_MAX_BYTES,
  maxPixels = DEFAULT_MAX_PIXELS,
  minFaceSize = PIPELINE_DEFAULTS.minFaceSize,
  sideThread = availableParallelism() >= 2 * workers,
  threadsPerWorker = Math.max(1, Math.floor(availableParallelism() / (workers * (sideThread ? 2 : 1)))),
  spinning = false,
  timeoutMs = 15_000,
  maxQueued = 64,
  workingSize = 1280,
  pipeline = {},
  manifest,
  embedder,
}: FaceEngineOptions): Promise<FaceEngine> {
  const models = await loadModels({ dir: modelsDir, manifest, ...(embedder ? { embedder } : {}) });
  if (!models.available) throw new FaceModelsUnavailable(models.reason);

  // Each worker gets its own stop cells, so the pool stops it only outside onnxruntime (native-guard.ts).
  const stopCells = new WeakMap<Worker, SharedArrayBuffer>();
  const pool = createWorkerPool({
    size: workers,
    timeoutMs,
    maxQueued,
    spawn: () => {
      const cells = createStopCells();
      const init: WorkerInit = { files: models.files, threads: threadsPerWorker, spinning, sideThread, stopCells: cells };
      const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: init });
      stopCells.set(worker, cells);
      return worker;
    },
    stop: (worker) => stopWorker(worker, stopCells.get(worker)!),
  });
  try {
    await pool.ready();
  } catch (cause) {
    await pool.close();
    throw new FaceModelsUnavailable((cause as Error).message, { cause });
  }

  return {
    modelName: models.embedder.name,
    embeddingSize: models.embedder.embeddingSize ?? 128,
    pipelineVersion: pipeline.pipelineVersion ?? CURRENT_PIPELINE_VERSION,
    workers,
    sideThread,
    async analyze(bytes, { requireFrontal = true, allowOtherFaces = false, alsoEmbed = [] } = {}) {
      // Refuse before spending a decode on a picture that could not be queued (the pool checks again).
      if (pool.queued >= maxQueued) throw new FaceEngineError('face_engine_busy', `face analysis queue is full (${maxQueued} waiting)`);
      const decoded = await decodeImage(bytes, { maxBytes, maxPixels, workingSize });
      // sharp's output buffer is external memory that cannot be transferred: copy it once into a
      // plain ArrayBuffer, which then moves to the worker without a second copy.
      const pixels = decoded.data.slice();
      const request: Omit<AnalyzeRequest, 'id'> = {
        image: { data: pixels, width: decoded.width, height: decoded.height },
        options: { ...pipeline, minFaceSize: minFaceSize / decoded.scale, requireFrontal, allowOtherFaces, alsoEmbed },
      };
      const reply = await pool.run<WorkerReply>(request, [pixels.buffer as ArrayBuffer]);
      if (reply.type === 'rejected') throw new FaceRejected(reply.code as FaceRejectionCode);
      if (reply.type !== 'result') throw new FaceEngineError('face_engine_failed', 'face analysis failed', { cause: reply.type === 'failed' ? new Error(reply.message) : undefined });
      const { result } = reply;
      const s = decoded.scale;
      return {
        box: { x: result.box.x * s, y: result.box.y * s, width: result.box.width * s, height: result.box.height * s },
        landmarks: result.landmarks.map(([x, y]) => [x * s, y * s] as [number, number]),
        score: result.score,
        pose: result.pose,
        quality: result.quality,
        embedding: result.embedding,
        pipelineVersion: result.pipelineVersion,
        embeddings: result.embeddings,
        passiveLiveness: result.passiveLiveness,
      };
    },
    close: () => pool.close(),
  };
}
