// Starts an inference worker's side thread (side-worker.ts) and gives the pipeline its embedder and
// liveness models as `FaceRunners['side']`. The side thread belongs to its worker: it ends with it
// (a timed-out worker's termination stops it too), and if it dies the worker ends as well, so the
// pool replaces both and fails only the request being served.
import { Worker } from 'node:worker_threads';
import type { FaceRunners } from './pipeline.ts';
import type { ModelFiles } from './runners.ts';

export type SideRequest =
  | { id: number; kind: 'embed'; tensors: [Float32Array]; count: number }
  | { id: number; kind: 'liveness'; tensors: Float32Array[] };
/** `outputs` on success, `message` on failure; id 0 answers the start. */
export type SideReply = { id: number; outputs: Float32Array[]; message?: undefined } | { id: number; message: string; outputs?: undefined };

export type SideRunners = NonNullable<FaceRunners['side']>;

export interface SideThreadInit {
  files: ModelFiles;
  threads: number;
  spinning: boolean;
  /** Its worker's stop cells: the side thread's onnxruntime calls count as the worker's (native-guard.ts). */
  stopCells: SharedArrayBuffer;
}

export async function startSideThread(
  init: SideThreadInit,
  onDeath: (error: Error) => void,
): Promise<SideRunners & { thread: Worker }> {
  const worker = new Worker(new URL('./side-worker.ts', import.meta.url), { workerData: init });
  const pending = new Map<number, { resolve: (outputs: Float32Array[]) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let started: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => { started = { resolve, reject }; });

  worker.on('message', (reply: SideReply) => {
    if (reply.id === 0) {
      if (reply.message === undefined) started?.resolve();
      else started?.reject(new Error(reply.message));
      return;
    }
    const call = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.message === undefined) call?.resolve(reply.outputs);
    else call?.reject(new Error(reply.message));
  });
  worker.on('error', () => {}); // 'exit' follows
  let running = false;
  worker.on('exit', (code) => {
    const error = new Error(`the face worker's side thread stopped (exit code ${code})`);
    started?.reject(error);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
    // A thread that never started is reported by the rejected start alone.
    if (running) onDeath(error);
  });
  await ready;
  running = true;

  const call = (request: SideRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never): Promise<Float32Array[]> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      // The tensors are made for this call only, so they move rather than copy.
      worker.postMessage({ ...request, id }, request.tensors.map((t) => t.buffer as ArrayBuffer));
    });
  return {
    thread: worker,
    embed: async (tensor, count = 1) => (await call({ kind: 'embed', tensors: [tensor], count }))[0]!,
    liveness: (tensors) => call({ kind: 'liveness', tensors }),
  };
}
