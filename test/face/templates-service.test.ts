// Enrol and verify with the real engine on real pictures, against PGlite with pgvector.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { createKeyRing, generateFernetKey } from '../../src/crypto/key-ring.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createDuplicateDetector } from '../../src/face/duplicates/index.ts';
import { createChallenge, createFaceEngine, type FaceEngine } from '../../src/face/index.ts';
import { createFaceService, DEFAULT_FACE_THRESHOLD, FaceTemplateError, saveTemplate, type FaceService } from '../../src/face/templates/index.ts';
import { modelsDir, faceDataDir } from '../support/shared-data.ts';
import { createFaceSchema } from '../support/face-schema.ts';

const imagesDir = path.join(faceDataDir, 'images');
/** The n-th picture (1-based, in name order) of a person in the data set. */
async function picture(name: string, n: number): Promise<Buffer> {
  const files = (await readdir(path.join(imagesDir, name))).sort();
  return readFile(path.join(imagesDir, name, files[n - 1]!));
}

describe('face service', () => {
  let database: Database;
  let db: Kysely<any>;
  let engine: FaceEngine;
  let service: FaceService;
  const ring = createKeyRing([generateFernetKey()]);
  const newUser = async () => {
    const id = randomUUID();
    await db.insertInto('users').values({ id }).execute();
    return id;
  };

  before(async () => {
    [database, engine] = await Promise.all([openDatabase({ kind: 'pglite', dataDir: 'memory://' }), createFaceEngine({ modelsDir, workers: 1 })]);
    db = database.db;
    await createFaceSchema(db, 'tenant_s');
    service = createFaceService({ engine, ring, duplicates: createDuplicateDetector({ ring }), minEnrolQuality: 0 });
  });
  after(async () => {
    await engine.close();
    await database.close();
  });

  it('enrols the best frame and verifies the same person, not another', async () => {
    const userId = await newUser();
    const enrolled = await service.enroll(db, userId, [await picture('Tony_Blair', 1), await picture('Tony_Blair', 2)]);
    assert.ok(enrolled.quality > 0 && enrolled.quality <= 1);
    assert.equal(enrolled.duplicates?.enabled, true);
    const same = await service.verify(db, userId, [await picture('Tony_Blair', 3)]);
    assert.equal(same.match, true, JSON.stringify(same));
    assert.ok(same.similarity >= DEFAULT_FACE_THRESHOLD);
    assert.deepEqual(same.reasons, []);
    assert.equal(typeof same.liveness.passive, 'number');
    const other = await service.verify(db, userId, [await picture('Silvio_Berlusconi', 1)]);
    assert.equal(other.match, false);
    assert.ok(other.reasons.includes('below_threshold'), JSON.stringify(other));
    // Two people in one attempt: each frame must show the same person.
    const mixed = await service.verify(db, userId, [await picture('Tony_Blair', 3), await picture('Silvio_Berlusconi', 1)]);
    assert.equal(mixed.match, false);
  });

  it('flags a second account enrolling the same face', async () => {
    const first = await newUser();
    await service.enroll(db, first, [await picture('Wen_Jiabao', 1)]);
    const second = await newUser();
    const result = await service.enroll(db, second, [await picture('Wen_Jiabao', 2)]);
    assert.equal(result.duplicates?.enabled, true);
    assert.deepEqual(result.duplicates?.matches.map((m) => m.userId), [first]);
  });

  it('reports an active challenge that was not met', async () => {
    const userId = await newUser();
    await service.enroll(db, userId, [await picture('David_Beckham', 1)]);
    const challenge = createChallenge({ now: Date.now() - 120_000, ttlMs: 30_000 });
    const result = await service.verify(db, userId, [await picture('David_Beckham', 1)], challenge);
    assert.equal(result.match, false);
    assert.deepEqual(result.liveness.active, { ok: false, reason: 'expired' });
    assert.ok(result.reasons.includes('active_liveness_expired'));
  });

  it('answers the unenrolled, refuses other models and unusable frames', async () => {
    const userId = await newUser();
    assert.deepEqual((await service.verify(db, userId, [await picture('Tony_Blair', 3)])).reasons, ['not_enrolled']);
    const embedding = new Float32Array(128).fill(1 / Math.sqrt(128));
    await saveTemplate(db, ring, { userId, model: 'sface_2021dec', embedding, quality: 0.9 });
    await assert.rejects(service.verify(db, userId, [await picture('Tony_Blair', 3)]), (error: unknown) => {
      assert.ok(error instanceof FaceTemplateError);
      assert.equal(error.code, 'face_template_model_mismatch');
      return true;
    });
    await assert.rejects(service.enroll(db, userId, [new Uint8Array([1, 2, 3])]), { code: 'face_enrol_no_usable_frame' });
    await assert.rejects(service.enroll(db, userId, []), { code: 'face_enrol_no_usable_frame' });
  });
});
