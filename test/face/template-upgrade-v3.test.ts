// Templates enrolled by the previous release (pipeline version 3, first detection at 640 px) keep
// working under version 4 (first detection at 320 px). On a 640x480 camera frame the two versions
// make different embeddings, so this is where like-with-like matters: the previous release's service
// enrols from camera frames, the current one verifies with another frame, compares the version-3
// template with the frame's version-3 embedding (its own detection at 640), and replaces the
// template with a version-4 one. Real engines, real LFW pictures as camera frames, PGlite.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { createKeyRing, generateFernetKey } from '../../src/crypto/key-ring.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createDuplicateDetector } from '../../src/face/duplicates/index.ts';
import { asCameraFrame } from '../../src/face/eval/camera-frame.ts';
import { cosineSimilarity, createFaceEngine, type FaceEngine } from '../../src/face/index.ts';
import { CURRENT_PIPELINE_VERSION } from '../../src/face/pipeline.ts';
import { createFaceService, loadTemplates, templateVersions, type FaceService } from '../../src/face/templates/index.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';
import { createFaceSchema } from '../support/face-schema.ts';

const lfw = (person: string, index: number) => readFile(path.join(faceDataDir, 'images', person, `${person}_${String(index).padStart(4, '0')}.jpg`));
/** The camera page's frame of an LFW photo. */
const cameraFrame = async (person: string, index: number) => asCameraFrame(await lfw(person, index));

describe('version-3 templates under pipeline version 4', { timeout: 120_000 }, () => {
  let database: Database;
  let db: Kysely<any>;
  let previousEngine: FaceEngine;
  let engine: FaceEngine;
  let previous: FaceService;
  let service: FaceService;
  const ring = createKeyRing([generateFernetKey()]);

  before(async () => {
    [database, previousEngine, engine] = await Promise.all([
      openDatabase({ kind: 'pglite', dataDir: 'memory://' }),
      createFaceEngine({ modelsDir, workers: 1, pipeline: { pipelineVersion: 3 } }),
      createFaceEngine({ modelsDir, workers: 1 }),
    ]);
    db = database.db;
    await createFaceSchema(db, 'tenant_v3');
    const duplicates = createDuplicateDetector({ ring });
    previous = createFaceService({ engine: previousEngine, ring, duplicates, minEnrolQuality: 0 });
    service = createFaceService({ engine, ring, duplicates, minEnrolQuality: 0 });
  });
  after(async () => {
    await Promise.all([previousEngine?.close(), engine?.close()]);
    await database?.close();
  });

  it('a camera frame gives different version-3 and version-4 embeddings', async () => {
    assert.equal(CURRENT_PIPELINE_VERSION, 4);
    const frame = await cameraFrame('Tony_Blair', 18);
    const [v3, now] = [await previousEngine.analyze(frame), await engine.analyze(frame, { alsoEmbed: [3] })];
    assert.equal(v3.pipelineVersion, 3);
    assert.ok(cosineSimilarity(v3.embedding, now.embedding) < 0.9999, 'version 4 changes a camera frame\'s embedding');
    assert.ok(cosineSimilarity(v3.embedding, now.embeddings[3]!) > 0.99999, 'the current build still makes the version-3 one');
  });

  it('a new enrolment is searched against version-3 templates not upgraded yet, with its version-3 embedding', async () => {
    const first = randomUUID();
    const second = randomUUID();
    const stranger = randomUUID();
    await db.insertInto('users').values([{ id: first }, { id: second }, { id: stranger }]).execute();
    const old = await previous.enroll(db, first, [await cameraFrame('Andre_Agassi', 1)]);
    assert.deepEqual(await templateVersions(db, first), [3]);
    // The same face enrolled again on another account, by the current release: flagged.
    const again = await service.enroll(db, second, [await cameraFrame('Andre_Agassi', 2)]);
    assert.deepEqual(await templateVersions(db, second), [4]);
    assert.ok(again.duplicates?.enabled, JSON.stringify(again.duplicates));
    assert.deepEqual(again.duplicates.matches.map((m) => [m.userId, m.templateId]), [[first, old.templateId]]);
    const flags = await db.selectFrom('face_duplicate_flags').select(['user_id', 'matched_user_id']).where('user_id', '=', second).execute();
    assert.deepEqual(flags, [{ user_id: second, matched_user_id: first }]);
    // Somebody else: nothing.
    const other = await service.enroll(db, stranger, [await cameraFrame('Silvio_Berlusconi', 6)]);
    assert.ok(other.duplicates?.enabled);
    assert.deepEqual(other.duplicates.matches, []);
  });

  it('verify compares a version-3 template like with like, then upgrades it; an impostor changes nothing', async () => {
    const tony = randomUUID();
    await db.insertInto('users').values({ id: tony }).execute();
    await previous.enroll(db, tony, [await cameraFrame('Tony_Blair', 18)]);
    assert.deepEqual(await templateVersions(db, tony), [3]);
    const [template] = await loadTemplates(db, ring, tony);

    const impostor = await service.verify(db, tony, [await cameraFrame('Silvio_Berlusconi', 6)]);
    assert.equal(impostor.match, false);
    assert.equal(impostor.upgraded, undefined);
    assert.deepEqual(await templateVersions(db, tony), [3]);

    const probe = await cameraFrame('Tony_Blair', 32);
    const result = await service.verify(db, tony, [probe]);
    assert.equal(result.match, true, JSON.stringify(result));
    // The similarity is version 3's: the stored template against the probe as version 3 makes it,
    // not against the version-4 embedding.
    const previousWay = cosineSimilarity((await previousEngine.analyze(probe)).embedding, template!.embedding);
    const currentWay = cosineSimilarity((await engine.analyze(probe)).embedding, template!.embedding);
    assert.ok(Math.abs(result.similarity - previousWay) < 1e-4, `${result.similarity} vs ${previousWay}`);
    assert.ok(Math.abs(currentWay - previousWay) > 1e-4, 'the probe must tell the versions apart');
    assert.deepEqual(result.upgraded && [result.upgraded.fromVersion, result.upgraded.toVersion, result.upgraded.replacedTemplateId], [3, 4, template!.id]);
    assert.deepEqual(await templateVersions(db, tony), [4]);

    // Next time: version 4 against the version-4 template.
    const again = await service.verify(db, tony, [await cameraFrame('Tony_Blair', 48)]);
    assert.equal(again.match, true, JSON.stringify(again));
    assert.equal(again.upgraded, undefined);
  });
});
