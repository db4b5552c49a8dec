// Stopping a face worker must never take the process with it. onnxruntime-node runs (and creates)
// sessions synchronously on the worker's thread, and a Worker terminated inside such a call aborts
// the whole process ("terminate called after throwing an instance of 'Napi::Error'"): before
// src/face/native-guard.ts, every run of the first test below died that way within a few timeouts,
// with and without side threads. The pool now stops a worker only outside onnxruntime.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, test } from 'node:test';
import { FaceEngineError } from '../../src/face/errors.ts';
import { createStopCells, nativeGuard, stopWorker, WorkerStopping } from '../../src/face/native-guard.ts';
import { createWorkerPool } from '../../src/face/pool.ts';
import { projectRoot } from '../support/facet.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

const picture = path.join(faceDataDir, 'images', 'Aaron_Sorkin', 'Aaron_Sorkin_0001.jpg');
const idleWorker = () => new Worker("require('node:worker_threads').parentPort.on('message', () => {})", { eval: true });

describe('stopping face workers', { timeout: 120_000 }, () => {
  for (const mode of ['side', 'alone'] as const) {
    test(`timeouts in the middle of the models, then closing while a replacement loads, leave the process running (${mode === 'side' ? 'with' : 'without'} a side thread)`, () => {
      const run = spawnSync(process.execPath, [path.join(projectRoot, 'test/fixtures/face-worker-stop/timeouts.ts'), modelsDir, picture, '8', '20', mode], { encoding: 'utf8', cwd: projectRoot, timeout: 100_000 });
      assert.equal(run.status, 0, `exit ${run.status} ${run.signal ?? ''}\n${run.stderr}`);
      const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
      assert.deepEqual(report, { codes: { face_worker_timeout: 20 }, closed: true });
    });
  }

  test('the guard counts a call until it ends, and a stop waits for it before terminating', async () => {
    const cells = createStopCells();
    const guard = nativeGuard(cells);
    let finished = 0;
    const call = guard(() => new Promise<void>((resolve) => setTimeout(() => { finished = Date.now(); resolve(); }, 150)));
    const worker = idleWorker();
    const outcome = await stopWorker(worker, cells);
    const terminatedAt = Date.now();
    await call;
    assert.equal(outcome, 'terminated');
    assert.ok(finished > 0 && finished <= terminatedAt, 'terminated before the call under way ended');
    // Once stopping, no new call starts.
    let ran = false;
    await assert.rejects(guard(async () => { ran = true; }), WorkerStopping);
    assert.equal(ran, false);
  });

  test('a call that outlasts the grace period leaves its worker running (abandoned), not terminated', async () => {
    const cells = createStopCells();
    const guard = nativeGuard(cells);
    let release!: () => void;
    const call = guard(() => new Promise<void>((resolve) => { release = resolve; }));
    const worker = idleWorker();
    let exited = false;
    worker.on('exit', () => { exited = true; });
    assert.equal(await stopWorker(worker, cells, { graceMs: 50 }), 'abandoned');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(exited, false);
    release();
    await call;
    await worker.terminate();
  });

  test('the pool replaces an abandoned worker without waiting for it to exit', async () => {
    const source = `
      const { parentPort } = require('node:worker_threads');
      parentPort.postMessage({ type: 'ready' });
      parentPort.on('message', (m) => {
        if (m.hang) for (;;) {}
        parentPort.postMessage({ type: 'result', id: m.id, echo: m.value });
      });`;
    const workers: Worker[] = [];
    const pool = createWorkerPool({
      size: 1,
      timeoutMs: 100,
      spawn: () => { const worker = new Worker(source, { eval: true }); workers.push(worker); return worker; },
      stop: async () => 'abandoned',
    });
    try {
      await pool.ready();
      await assert.rejects(pool.run({ hang: true }), (e: unknown) => e instanceof FaceEngineError && e.code === 'face_worker_timeout');
      assert.equal((await pool.run<{ echo: number }>({ value: 5 })).echo, 5);
      assert.equal(pool.spawned, 2);
    } finally {
      await pool.close();
      await Promise.all(workers.map((w) => w.terminate())); // the hung one loops in JavaScript: safe to terminate
    }
  });
});
