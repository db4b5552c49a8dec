// Stopping an inference worker without taking the process down with it. onnxruntime-node creates
// and runs sessions synchronously on the calling thread; a Worker terminated while one of those
// calls is under way aborts the whole process when the call returns into the dying thread
// ("terminate called after throwing an instance of 'Napi::Error'", reproduced by
// test/face/worker-stop.test.ts). So a worker and its side thread count the onnxruntime calls they
// are inside, and the pool stops a worker in two steps: it raises the stop flag, which keeps any
// thread from starting another call, and terminates the worker once the count is zero.
//
// The two cells are read and written with sequentially consistent Atomics, Dekker-style: a thread
// counts itself in before it reads the flag, the pool raises the flag before it reads the count,
// so either the pool sees the thread inside and waits, or the thread sees the flag and stays out.
import type { Worker } from 'node:worker_threads';
import { FacetError } from '../errors/facet-error.ts';

const STOP = 0;
const INSIDE = 1;

/** Shared between the pool (main thread), a worker and its side thread. */
export function createStopCells(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** Raised in a worker asked to stop, instead of starting an onnxruntime call (the pool no longer listens to it). */
export class WorkerStopping extends FacetError {
  readonly code = 'face_worker_stopping';
  constructor() {
    super('this face worker is stopping');
  }
}

/** Runs onnxruntime calls counted, and refuses to start one once the worker is asked to stop. */
export type NativeGuard = <T>(call: () => Promise<T>) => Promise<T>;

export function nativeGuard(cells: SharedArrayBuffer): NativeGuard {
  const view = new Int32Array(cells);
  return async (call) => {
    Atomics.add(view, INSIDE, 1);
    try {
      if (Atomics.load(view, STOP) !== 0) throw new WorkerStopping();
      // Counted until onnxruntime-node's own setImmediate has run the call and returned.
      return await call();
    } finally {
      Atomics.sub(view, INSIDE, 1);
    }
  };
}

/** How stopping a worker ended: terminated, or left running because a call never returned. */
export type StopOutcome = 'terminated' | 'abandoned';

/**
 * Asks the worker to stop and terminates it as soon as none of its threads is inside onnxruntime
 * (normally at once, or when the model run under way ends, a few milliseconds later). A call still
 * running after `graceMs` is a hung native call: terminating would abort the process, so the worker
 * is left to finish (unreferenced, so it keeps no process alive) and the caller replaces it.
 */
export async function stopWorker(worker: Worker, cells: SharedArrayBuffer, { graceMs = 10_000, pollMs = 2 } = {}): Promise<StopOutcome> {
  const view = new Int32Array(cells);
  Atomics.store(view, STOP, 1);
  const deadline = Date.now() + graceMs;
  while (Atomics.load(view, INSIDE) !== 0) {
    if (Date.now() >= deadline) {
      worker.unref();
      return 'abandoned';
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  await worker.terminate();
  return 'terminated';
}
