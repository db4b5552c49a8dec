// A full verify queue answers at once with a clear refusal (face_engine_busy: 503, Retry-After),
// not a wait towards the worker timeout; what was queued is still served. Real models, real photo.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { createFaceEngine, FaceEngineError, type FaceEngine } from '../../src/face/index.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

describe('face engine under more load than it may queue', () => {
  let engine: FaceEngine;
  before(async () => {
    engine = await createFaceEngine({ modelsDir, workers: 1, maxQueued: 2 });
  });
  after(() => engine.close());

  it('serves one in flight and two waiting, refuses the rest at once with face_engine_busy', async () => {
    const photo = await readFile(path.join(faceDataDir, 'images', 'Aaron_Sorkin', 'Aaron_Sorkin_0001.jpg'));
    const started = performance.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, async () => {
        try {
          await engine.analyze(photo);
          return { ok: true, ms: performance.now() - started };
        } catch (error) {
          return { ok: false, ms: performance.now() - started, error };
        }
      }),
    );
    const results = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : assert.fail(String(o.reason))));
    const served = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    // The first picture is decoded before it reaches the pool, so the queue check lets through at
    // least 1 in flight + 2 waiting; with decoding in parallel a few more may be admitted.
    assert.ok(served.length >= 3, `${served.length} served`);
    assert.ok(refused.length >= 1, 'some were refused');
    for (const r of refused) {
      assert.ok(r.error instanceof FaceEngineError, String(r.error));
      assert.equal(r.error.code, 'face_engine_busy');
      assert.equal(r.error.status, 503);
      assert.equal(r.error.expose, true);
      assert.equal(r.error.headers['Retry-After'], '2');
    }
    // Refusals come before the served requests finish, not after a timeout.
    const slowestRefusal = Math.max(...refused.map((r) => r.ms));
    const lastServed = Math.max(...served.map((r) => r.ms));
    assert.ok(slowestRefusal < lastServed, `refused after ${slowestRefusal.toFixed(0)} ms, last served at ${lastServed.toFixed(0)} ms`);
    // And the engine keeps working afterwards.
    assert.equal((await engine.analyze(photo)).embedding.length, 128);
  });
});
