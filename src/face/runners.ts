// onnxruntime-node sessions for the pipeline's models, created once and reused. This is the only
// file that touches onnxruntime; the worker builds one set per thread.
import * as ort from 'onnxruntime-node';
import type { TensorLike } from './detect.ts';
import type { EmbedderPreprocess } from './embed.ts';
import type { NativeGuard } from './native-guard.ts';
import type { FaceRunners } from './pipeline.ts';

export interface ModelFiles {
  detector: string;
  embedder: string;
  /** The embedder's preprocessing, from its manifest entry (plain data: it travels to the workers). */
  embedderPreprocess: EmbedderPreprocess;
  /** Passive liveness models with the face-box scale each was trained on. */
  liveness: Array<{ file: string; scale: number }>;
}

export interface RunnerOptions {
  /** onnxruntime intra-op threads per session. */
  threads?: number;
  /**
   * Let idle intra-op threads spin-wait for work. Lowers latency a little on an idle machine but
   * burns CPU the event loop and sharp need, so it is off by default.
   */
  spinning?: boolean;
  /** Load the detector (default true; a side thread needs none). */
  detector?: boolean;
  /** Load the liveness models (default true; a worker whose side thread runs them needs none). */
  liveness?: boolean;
  /** Wraps every onnxruntime call, so the thread can be stopped safely (native-guard.ts). */
  guard?: NativeGuard;
}

const unguarded: NativeGuard = (call) => call();

export async function createRunners(
  files: ModelFiles,
  { threads = 1, spinning = false, detector: withDetector = true, liveness: withLiveness = true, guard = unguarded }: RunnerOptions = {},
): Promise<FaceRunners & { release(): Promise<void> }> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // the MiniFASNet exports warn about initialisers listed as inputs
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
  const create = (file: string) => guard(() => ort.InferenceSession.create(file, options));
  const detector = withDetector ? await create(files.detector) : undefined;
  const embedder = await create(files.embedder);
  const liveness = withLiveness ? await Promise.all(files.liveness.map((m) => create(m.file))) : [];
  const run = (session: ort.InferenceSession, feeds: ort.InferenceSession.FeedsType) => guard(() => session.run(feeds));
  // A batch dimension of 1 (not symbolic) means the model takes one face per run.
  const batchDim = (embedder.inputMetadata[0] as { isTensor?: boolean; shape?: ReadonlyArray<number | string> } | undefined)?.shape?.[0];
  const fixedBatch = batchDim === 1;

  return {
    livenessScales: files.liveness.map((m) => m.scale),
    async detect(tensor, width, height) {
      if (!detector) throw new Error('these runners have no detector');
      const out = await run(detector, { [detector.inputNames[0]]: new ort.Tensor('float32', tensor, [1, 3, height, width]) });
      return out as Record<string, TensorLike>;
    },
    embedderPreprocess: files.embedderPreprocess,
    async embed(tensor, count = 1) {
      if (count === 1 || !fixedBatch) {
        const out = await run(embedder, { [embedder.inputNames[0]]: new ort.Tensor('float32', tensor, [count, 3, 112, 112]) });
        return out[embedder.outputNames[0]].data as Float32Array;
      }
      // An export with a fixed batch of one (SFace's): the faces one after another.
      const size = tensor.length / count;
      const parts: Float32Array[] = [];
      for (let i = 0; i < count; i += 1) {
        const out = await run(embedder, { [embedder.inputNames[0]]: new ort.Tensor('float32', tensor.subarray(i * size, (i + 1) * size), [1, 3, 112, 112]) });
        parts.push(out[embedder.outputNames[0]].data as Float32Array);
      }
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) {
        all.set(part, at);
        at += part.length;
      }
      return all;
    },
    async liveness(tensors) {
      if (!withLiveness) throw new Error('these runners have no liveness models');
      const results: Array<ArrayLike<number>> = [];
      for (let i = 0; i < liveness.length; i += 1) {
        const session = liveness[i];
        const out = await run(session, { [session.inputNames[0]]: new ort.Tensor('float32', tensors[i], [1, 3, 80, 80]) });
        results.push(out[session.outputNames[0]].data as Float32Array);
      }
      return results;
    },
    async release() {
      await Promise.all([detector, embedder, ...liveness].map((s) => s && guard(() => s.release())));
    },
  };
}
