// A small pool of worker threads, one request in flight per worker. A worker that dies or hangs
// is replaced; the request it was serving fails with FaceEngineError instead of waiting forever.
// Workers announce themselves with { type: 'ready' } (or { type: 'init_failed', message }) and
// answer each request with a message carrying the request's `id`.
import type { Worker } from 'node:worker_threads';
import { FaceEngineError } from './errors.ts';

export interface WorkerPoolOptions {
  /** Number of workers. */
  size?: number;
  /** Creates one worker; called again to replace a dead one. */
  spawn: () => Worker;
  /**
   * Stops a worker (a timed-out one, a failed start, or all of them on close). Default: terminate.
   * The face engine stops its workers only outside onnxruntime (native-guard.ts); 'abandoned' means
   * the worker could not be stopped and is replaced without waiting for it to exit.
   */
  stop?: (worker: Worker) => Promise<unknown>;
  /** A request not answered within this time fails at once, and its worker is stopped and replaced. */
  timeoutMs?: number;
  /**
   * Requests allowed to wait for a worker (besides those being served). One more is refused at
   * once with `face_engine_busy` instead of queueing towards a timeout.
   */
  maxQueued?: number;
}

export interface WorkerPool {
  /** Resolves once every initial worker is ready; rejects if one cannot start. */
  ready(): Promise<void>;
  run<Reply>(message: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<Reply>;
  close(): Promise<void>;
  readonly size: number;
  /** Workers started over the pool's life (replacements included), for tests and metrics. */
  readonly spawned: number;
  /** Requests waiting for a worker now. */
  readonly queued: number;
}

interface Job {
  id: number;
  message: Record<string, unknown>;
  transfer: ArrayBuffer[];
  resolve: (reply: never) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  /** Being stopped (takes no more work): the stop under way. */
  retiring?: Promise<unknown>;
  /** Left the pool (exited, or abandoned while stopping); its replacement has been started. */
  gone?: boolean;
}

export function createWorkerPool({ size = 1, spawn, stop = (worker) => worker.terminate(), timeoutMs = 15_000, maxQueued = Infinity }: WorkerPoolOptions): WorkerPool {
  const slots = new Set<Slot>();
  const queue: Job[] = [];
  let nextId = 1;
  let spawned = 0;
  let closed = false;
  let broken: Error | undefined;
  let readyCount = 0;
  let settleReady: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const readyPromise = new Promise<void>((resolve, reject) => { settleReady = { resolve, reject }; });
  readyPromise.catch(() => {}); // observed through ready(); avoid an unhandled rejection otherwise

  function fail(reason: Error) {
    broken = reason;
    settleReady?.reject(reason);
    for (const job of queue.splice(0)) job.reject(reason);
  }

  /** Takes the slot out of the pool and starts its replacement, once. */
  function leave(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    slots.delete(slot);
    if (!closed && !broken) start();
  }

  /** Stops the slot's worker, once; one that cannot be stopped is replaced without waiting for its exit. */
  function retire(slot: Slot): Promise<unknown> {
    slot.retiring ??= stop(slot.worker).then((outcome) => { if (outcome === 'abandoned') leave(slot); }, () => leave(slot));
    return slot.retiring;
  }

  function start(): void {
    const worker = spawn();
    spawned += 1;
    const slot: Slot = { worker, ready: false };
    slots.add(slot);
    worker.on('message', (reply: { type?: string; id?: number; message?: string }) => {
      if (slot.retiring) return;
      if (reply?.type === 'ready') {
        slot.ready = true;
        readyCount += 1;
        if (readyCount === size) settleReady?.resolve();
        dispatch();
        return;
      }
      if (reply?.type === 'init_failed') {
        fail(new FaceEngineError('face_engine_failed', `a face worker could not start: ${reply.message}`));
        void retire(slot);
        return;
      }
      const job = slot.job;
      if (!job || reply?.id !== job.id) return;
      clearTimeout(job.timer);
      slot.job = undefined;
      job.resolve(reply as never);
      dispatch();
    });
    worker.on('error', () => {}); // 'exit' follows and does the bookkeeping
    worker.on('exit', () => {
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        clearTimeout(job.timer);
        job.reject(closed
          ? new FaceEngineError('face_engine_closed', 'the face engine is closed')
          : new FaceEngineError('face_worker_crashed', 'the face worker stopped unexpectedly'));
      }
      leave(slot);
    });
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (!slot.ready || slot.job || slot.retiring) continue;
      const job = queue.shift();
      if (!job) return;
      slot.job = job;
      // The caller hears of the timeout at once; the worker stops as soon as it safely can.
      job.timer = setTimeout(() => {
        slot.job = undefined;
        job.reject(new FaceEngineError('face_worker_timeout', 'face analysis took too long and was stopped'));
        void retire(slot);
      }, timeoutMs);
      try {
        slot.worker.postMessage({ ...job.message, id: job.id }, job.transfer);
      } catch (error) {
        clearTimeout(job.timer);
        slot.job = undefined;
        job.reject(new FaceEngineError('face_engine_failed', 'could not hand the request to a face worker', { cause: error }));
      }
    }
  }

  for (let i = 0; i < size; i += 1) start();

  return {
    size,
    get spawned() { return spawned; },
    get queued() { return queue.length; },
    ready: () => readyPromise,
    run<Reply>(message: Record<string, unknown>, transfer: ArrayBuffer[] = []) {
      if (closed) return Promise.reject(new FaceEngineError('face_engine_closed', 'the face engine is closed'));
      if (broken) return Promise.reject(broken);
      if (queue.length >= maxQueued) return Promise.reject(new FaceEngineError('face_engine_busy', `face analysis queue is full (${maxQueued} waiting)`));
      return new Promise<Reply>((resolve, reject) => {
        queue.push({ id: nextId++, message, transfer, resolve: resolve as (reply: never) => void, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new FaceEngineError('face_engine_closed', 'the face engine is closed'));
      await Promise.all([...slots].map(async (slot) => {
        await retire(slot); // a worker already stopping (timed out) is not stopped twice
        // A worker left running (abandoned) never exits while we wait: its caller hears now.
        const job = slot.job;
        slot.job = undefined;
        if (job) {
          clearTimeout(job.timer);
          job.reject(new FaceEngineError('face_engine_closed', 'the face engine is closed'));
        }
      }));
    },
  };
}
