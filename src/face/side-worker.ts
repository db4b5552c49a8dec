// The side thread of an inference worker: runs the embedder and the liveness models for the work
// that needs only the first detection, while the worker refines the landmarks (side-thread.ts).
// onnxruntime-node runs a model on the calling JavaScript thread, so a second thread is the only
// way for one analysis to use two cores with one intra-op thread per model.
import { parentPort, workerData } from 'node:worker_threads';
import { nativeGuard } from './native-guard.ts';
import { createRunners, type ModelFiles } from './runners.ts';
import type { SideReply, SideRequest, SideThreadInit } from './side-thread.ts';

const port = parentPort;
if (!port) throw new Error('side-worker.ts must run in a worker thread');
const init = workerData as SideThreadInit;

try {
  const runners = await createRunners(init.files, { threads: init.threads, spinning: init.spinning, detector: false, guard: nativeGuard(init.stopCells) });
  port.on('message', async (request: SideRequest) => {
    try {
      const outputs = request.kind === 'embed'
        ? [Float32Array.from(await runners.embed(request.tensors[0]!, request.count))]
        : (await runners.liveness(request.tensors)).map((logits) => Float32Array.from(logits));
      const reply: SideReply = { id: request.id, outputs };
      port.postMessage(reply, outputs.map((o) => o.buffer as ArrayBuffer));
    } catch (error) {
      port.postMessage({ id: request.id, message: (error as Error)?.message ?? String(error) } satisfies SideReply);
    }
  });
  port.postMessage({ id: 0, outputs: [] } satisfies SideReply);
} catch (error) {
  port.postMessage({ id: 0, message: (error as Error)?.message ?? String(error) } satisfies SideReply);
}
