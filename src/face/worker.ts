// Inference worker: builds its model sessions once, then analyses one decoded picture per message.
// Replies carry the request id; a refusal of the picture travels as its code, anything else as an
// error message (the main thread decides what to expose).
import { parentPort, workerData } from 'node:worker_threads';
import { FaceRejected } from './errors.ts';
import { nativeGuard } from './native-guard.ts';
import { analyzePicture, type PipelineOptions } from './pipeline.ts';
import type { RgbImage } from './pixels.ts';
import { createRunners, type ModelFiles } from './runners.ts';
import { startSideThread } from './side-thread.ts';

export interface WorkerInit {
  files: ModelFiles;
  /** onnxruntime intra-op threads per model session (the side thread's included). */
  threads: number;
  spinning: boolean;
  /** Run the liveness models and the first detection's views on a second thread (side-worker.ts). */
  sideThread: boolean;
  /** The pool's stop flag and this worker's count of onnxruntime calls under way (native-guard.ts), shared with the side thread. */
  stopCells: SharedArrayBuffer;
}
export interface AnalyzeRequest { id: number; image: RgbImage; options: PipelineOptions }
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'init_failed'; message: string }
  | { type: 'result'; id: number; result: Awaited<ReturnType<typeof analyzePicture>> }
  | { type: 'rejected'; id: number; code: FaceRejected['code'] }
  | { type: 'failed'; id: number; message: string };

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

try {
  const options = { threads: init.threads, spinning: init.spinning };
  // A dead side thread ends this worker too: the pool fails the request in flight and replaces both.
  const side = init.sideThread ? await startSideThread({ files: init.files, ...options, stopCells: init.stopCells }, () => process.exit(1)) : undefined;
  const runners = { ...(await createRunners(init.files, { ...options, liveness: !side, guard: nativeGuard(init.stopCells) })), side };
  port.on('message', async (request: AnalyzeRequest) => {
    try {
      const result = await analyzePicture(request.image, runners, request.options);
      const buffers = new Set([result.embedding, ...Object.values(result.embeddings)].map((e) => e.buffer as ArrayBuffer));
      post({ type: 'result', id: request.id, result }, [...buffers]);
    } catch (error) {
      if (error instanceof FaceRejected) post({ type: 'rejected', id: request.id, code: error.code });
      else post({ type: 'failed', id: request.id, message: (error as Error)?.message ?? String(error) });
    }
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'init_failed', message: (error as Error)?.message ?? String(error) });
}
