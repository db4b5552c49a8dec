// Templates enrolled before the face pipeline recorded its version keep working: a database and a
// template written the way the previous build wrote them (no pipeline_version column, 0x01 token,
// embedding from pipeline version 1), then migration 0520, then the current build verifies. The
// old template is compared with a probe made by the old pipeline, and a successful verify replaces
// it with a current one. Real engine, real LFW pictures, PGlite with pgvector.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import * as faceTemplatesMigration from '../../migrations/tenant/0100_face_templates.ts';
import * as faceVectorsMigration from '../../migrations/tenant/0101_face_vectors.ts';
import * as facePipelineVersionMigration from '../../migrations/tenant/0520_face_pipeline_version.ts';
import { createKeyRing, generateFernetKey } from '../../src/crypto/key-ring.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createDuplicateDetector } from '../../src/face/duplicates/index.ts';
import { cosineSimilarity, createFaceEngine, type FaceEngine } from '../../src/face/index.ts';
import { CURRENT_PIPELINE_VERSION, PIPELINE_VERSIONS } from '../../src/face/pipeline.ts';
import { encodeTemplateV1 } from '../../src/face/templates/codec.ts';
import { createFaceService, loadTemplates, templateVersions, type FaceService } from '../../src/face/templates/index.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

const imagesDir = path.join(faceDataDir, 'images');
async function picture(name: string, n: number): Promise<Buffer> {
  const files = (await readdir(path.join(imagesDir, name))).sort();
  return readFile(path.join(imagesDir, name, files[n - 1]!));
}

describe('templates of the previous face pipeline', () => {
  let database: Database;
  let db: Kysely<any>;
  let oldEngine: FaceEngine;
  let engine: FaceEngine;
  let service: FaceService;
  const ring = createKeyRing([generateFernetKey()]);
  const oldTemplates = new Map<string, Float32Array>();

  /** Enrols as the previous build did: its table, its token format, its pipeline. */
  async function enrolLikeThePreviousBuild(person: string, n: number, extra: Record<string, unknown> = {}): Promise<string> {
    const userId = randomUUID();
    await db.insertInto('users').values({ id: userId }).execute();
    const { embedding, quality } = await oldEngine.analyze(await picture(person, n));
    await db
      .insertInto('face_templates')
      .values({ user_id: userId, model: oldEngine.modelName, ciphertext: ring.encrypt(encodeTemplateV1({ userId, model: oldEngine.modelName, embedding })), quality, key_id: ring.primaryKeyId, ...extra })
      .execute();
    oldTemplates.set(userId, embedding);
    return userId;
  }

  before(async () => {
    [database, oldEngine, engine] = await Promise.all([
      openDatabase({ kind: 'pglite', dataDir: 'memory://' }),
      createFaceEngine({ modelsDir, workers: 1, pipeline: { pipelineVersion: 1 } }),
      createFaceEngine({ modelsDir, workers: 1 }),
    ]);
    db = database.db;
    await sql`create schema tenant_u`.execute(db);
    await sql`set search_path to tenant_u`.execute(db);
    await sql`create table users (id uuid primary key, deleted_at timestamptz)`.execute(db);
    await faceTemplatesMigration.up(db);
    await faceVectorsMigration.up(db);
    service = createFaceService({ engine, ring, duplicates: createDuplicateDetector({ ring }), minEnrolQuality: 0 });
  });
  after(async () => {
    await Promise.all([oldEngine.close(), engine.close()]);
    await database.close();
  });

  it('the two pipelines make different embeddings of the same picture', async () => {
    assert.equal(oldEngine.pipelineVersion, 1);
    assert.equal(engine.pipelineVersion, CURRENT_PIPELINE_VERSION);
    assert.ok(CURRENT_PIPELINE_VERSION > 1);
    const photo = await picture('Tony_Blair', 1);
    const [before, now] = [await oldEngine.analyze(photo), await engine.analyze(photo, { alsoEmbed: [1] })];
    assert.ok(cosineSimilarity(before.embedding, now.embedding) < 0.999, 'a new pipeline version must change the embedding');
    // The current build can still make the old embedding, for old templates.
    assert.ok(cosineSimilarity(before.embedding, now.embeddings[1]!) > 0.9999);
  });

  it('migration 0520 marks existing templates as version 1; verify compares like with like, then upgrades', async () => {
    const tony = await enrolLikeThePreviousBuild('Tony_Blair', 1);
    const viaPages = await enrolLikeThePreviousBuild('Bill_Gates', 1);
    await facePipelineVersionMigration.up(db);
    const [stored] = await loadTemplates(db, ring, tony);
    assert.equal(stored!.pipelineVersion, 1);
    // What the sign-in page reads before analysing, to embed the frames the old way too.
    assert.deepEqual(await templateVersions(db, tony), [1]);

    // Somebody else's face: no match, and the old template stays.
    const impostor = await service.verify(db, tony, [await picture('Silvio_Berlusconi', 1)]);
    assert.equal(impostor.match, false);
    assert.equal(impostor.upgraded, undefined);
    assert.equal((await loadTemplates(db, ring, tony))[0]!.pipelineVersion, 1);

    const probe = await picture('Tony_Blair', 3);
    const result = await service.verify(db, tony, [probe]);
    assert.equal(result.match, true, JSON.stringify(result));
    // The similarity is the old pipeline's: the old template against the probe made the old way.
    const oldWay = cosineSimilarity((await oldEngine.analyze(probe)).embedding, oldTemplates.get(tony)!);
    assert.ok(Math.abs(result.similarity - oldWay) < 1e-4, `${result.similarity} vs ${oldWay}`);
    assert.equal(result.upgraded?.fromVersion, 1);
    assert.equal(result.upgraded?.toVersion, CURRENT_PIPELINE_VERSION);
    const after = await loadTemplates(db, ring, tony);
    assert.deepEqual(after.map((t) => [t.id, t.pipelineVersion]), [[result.upgraded!.templateId, CURRENT_PIPELINE_VERSION]]);
    assert.deepEqual(await templateVersions(db, tony), [CURRENT_PIPELINE_VERSION]);
    // The replacement is indexed for duplicate detection in its own version.
    const vectors = await db.selectFrom('face_vectors').select('template_id').where('user_id', '=', tony).execute();
    assert.deepEqual(vectors.map((v) => v.template_id), [result.upgraded!.templateId]);

    // Next time: the current pipeline against the current template, nothing left to upgrade.
    const again = await service.verify(db, tony, [await picture('Tony_Blair', 4)]);
    assert.equal(again.match, true, JSON.stringify(again));
    assert.equal(again.upgraded, undefined);

    // The sign-in page's split path: analysis first (no database), then the rows.
    const analysed = await service.analyse([await picture('Bill_Gates', 2)], { challenge: false });
    // (By default every version templates may still have is embedded.)
    assert.deepEqual([...analysed.pipelineVersions].sort(), Object.keys(PIPELINE_VERSIONS).map(Number).sort());
    assert.ok(analysed.pipelineVersions.includes(1) && analysed.pipelineVersions.includes(CURRENT_PIPELINE_VERSION));
    const split = await service.verifyAnalysed(db, viaPages, analysed);
    assert.equal(split.match, true, JSON.stringify(split));
    assert.equal(split.upgraded?.fromVersion, 1);
  });

  it('frames analysed without the old version cannot be compared with an old template', async () => {
    // (The migration ran in the test before: rows now have to name their version.)
    const userId = await enrolLikeThePreviousBuild('Andre_Agassi', 1, { pipeline_version: 1 });
    const analysed = await service.analyse([await picture('Andre_Agassi', 2)], { challenge: false, pipelineVersions: [CURRENT_PIPELINE_VERSION] });
    const result = await service.verifyAnalysed(db, userId, analysed);
    assert.equal(result.match, false);
    assert.deepEqual(result.reasons, ['template_version_not_analysed']);
  });
});
