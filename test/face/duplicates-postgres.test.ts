// Duplicate-enrolment detection on the real PostgreSQL server (DATABASE_URL) with pgvector, with
// real faces through the real engine: the HNSW index serves the search (EXPLAIN), a second account
// enrolling an enrolled face is flagged, nobody else is, and each tenant's vectors are its own.
// CI installs pgvector with ../shared/bin/install-pgvector; a server without it skips this file
// (test/face/duplicates.test.ts then checks the "disabled" message instead).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import * as faceTemplatesMigration from '../../migrations/tenant/0100_face_templates.ts';
import * as faceVectorsMigration from '../../migrations/tenant/0101_face_vectors.ts';
import * as facePipelineVersionMigration from '../../migrations/tenant/0520_face_pipeline_version.ts';
import { createKeyRing, generateFernetKey } from '../../src/crypto/key-ring.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createDuplicateDetector, DEFAULT_DUPLICATE_THRESHOLD, detectVectorSupport, nearestTemplatesQuery, vectorParameter } from '../../src/face/duplicates/index.ts';
import { listIdentityImages } from '../../src/face/eval/evaluate-all.ts';
import { createFaceEngine, type FaceAnalysis, type FaceEngine } from '../../src/face/index.ts';
import { CURRENT_PIPELINE_VERSION } from '../../src/face/pipeline.ts';
import { createFaceService, type FaceService } from '../../src/face/templates/index.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

const pgUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const serverHasPgvector = await (async () => {
  const probe = await openDatabase({ kind: 'postgres', url: pgUrl, poolSize: 1 });
  try {
    return (await sql`select 1 from pg_available_extensions where name = 'vector'`.execute(probe.db)).rows.length > 0;
  } finally {
    await probe.close();
  }
})().catch(() => false);

const imagesDir = path.join(faceDataDir, 'images');
/** People enrolled once each; the first PEOPLE identities of the dev split (sorted by name). */
const PEOPLE = 60;

describe('duplicate enrolment detection on PostgreSQL with pgvector, real faces', { skip: serverHasPgvector ? false : 'this PostgreSQL server lacks pgvector (run ../shared/bin/install-pgvector)' }, () => {
  let database: Database;
  let engine: FaceEngine;
  let service: FaceService;
  const ring = createKeyRing([generateFernetKey()]);
  const suffix = randomBytes(4).toString('hex');
  const tenants = [`facet_test_dupa_${suffix}`, `facet_test_dupb_${suffix}`] as const;
  const people = new Map<string, string[]>();
  const enrolled = new Map<string, string>(); // identity → user id in tenant A

  async function inTenant<T>(schema: string, work: (trx: Kysely<any>) => Promise<T>): Promise<T> {
    return database.db.transaction().execute(async (trx) => {
      await sql`select set_config('search_path', ${schema}, true)`.execute(trx);
      return work(trx);
    });
  }
  async function enrol(schema: string, file: string) {
    const prepared = await service.prepareEnrolment([await readFile(path.join(imagesDir, file))]);
    return inTenant(schema, async (trx) => {
      const userId = randomUUID();
      await trx.insertInto('users').values({ id: userId }).execute();
      return { userId, ...(await service.saveEnrolment(trx, userId, prepared)), chosen: prepared.chosen as FaceAnalysis };
    });
  }

  before(async () => {
    [database, engine] = await Promise.all([openDatabase({ kind: 'postgres', url: pgUrl, poolSize: 2 }), createFaceEngine({ modelsDir, workers: 2 })]);
    service = createFaceService({ engine, ring, duplicates: createDuplicateDetector({ ring }), minEnrolQuality: 0, minPassiveLiveness: 0 });
    for (const schema of tenants) {
      await inTenant(schema, async (trx) => {
        await sql`create schema ${sql.id(schema)}`.execute(trx);
        await sql`create table users (id uuid primary key, deleted_at timestamptz)`.execute(trx);
        await faceTemplatesMigration.up(trx);
        await facePipelineVersionMigration.up(trx);
        await faceVectorsMigration.up(trx);
      });
    }
    for (const { file, identity } of await listIdentityImages(imagesDir, PEOPLE)) people.set(identity, [...(people.get(identity) ?? []), file]);
  });
  after(async () => {
    for (const schema of tenants) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.db);
    await Promise.all([engine.close(), database.close()]);
  });

  it('is enabled on this server', async () => {
    const support = await inTenant(tenants[0], (trx) => detectVectorSupport(trx));
    assert.equal(support.enabled, true);
  });

  it(`enrolling ${PEOPLE} different people (one photo each) flags nobody at the shipped threshold`, async () => {
    let refused = 0;
    for (const [identity, files] of people) {
      try {
        const result = await enrol(tenants[0], files[0]!);
        assert.equal(result.duplicates?.enabled, true);
        assert.deepEqual(result.duplicates?.matches, [], `${identity} flagged as ${JSON.stringify(result.duplicates?.matches)}`);
        enrolled.set(identity, result.userId);
      } catch (error) {
        // A photo the enrolment gates refuse (a turned head, a bystander) is skipped, not a failure here.
        if ((error as { code?: string }).code !== 'face_enrol_no_usable_frame') throw error;
        refused += 1;
      }
    }
    assert.ok(enrolled.size >= PEOPLE * 0.8, `only ${enrolled.size} of ${PEOPLE} enrolled (${refused} refused)`);
    const flags = await inTenant(tenants[0], (trx) => trx.selectFrom('face_duplicate_flags').select('id').execute());
    assert.equal(flags.length, 0);
  });

  it('a second account with another photo of an enrolled person is flagged, naming the first', async () => {
    const candidates = [...people].filter(([identity, files]) => files.length >= 2 && enrolled.has(identity));
    assert.ok(candidates.length >= 3, `${candidates.length} people with two photos`);
    let flagged = 0;
    for (const [identity, files] of candidates.slice(0, 6)) {
      let result;
      try {
        result = await enrol(tenants[0], files[1]!);
      } catch (error) {
        if ((error as { code?: string }).code === 'face_enrol_no_usable_frame') continue;
        throw error;
      }
      const matches = result.duplicates?.matches ?? [];
      // Only ever the same person's first account (no other enrolled face comes close).
      for (const match of matches) assert.equal(match.userId, enrolled.get(identity), `${identity} matched another person`);
      if (matches.length > 0) {
        flagged += 1;
        assert.ok(matches[0]!.similarity >= DEFAULT_DUPLICATE_THRESHOLD);
      }
    }
    assert.ok(flagged >= 3, `${flagged} duplicates found`);
  });

  it('the same face in another tenant: not flagged there, and stored as a different vector', async () => {
    const [identity, files] = [...people].find(([who]) => enrolled.has(who))!;
    const inB = await enrol(tenants[1], files[0]!);
    assert.deepEqual(inB.duplicates?.matches, []);
    const vectorOf = (schema: string, userId: string) =>
      inTenant(schema, async (trx) => (await sql<{ e: string }>`select embedding::text as e from face_vectors where user_id = ${userId}`.execute(trx)).rows[0]!.e);
    const [a, b] = [JSON.parse(await vectorOf(tenants[0], enrolled.get(identity)!)) as number[], JSON.parse(await vectorOf(tenants[1], inB.userId)) as number[]];
    const cos = a.reduce((sum, x, i) => sum + x * b[i]!, 0);
    // Same photo, same embedding, but each tenant's secret rotation: unrelated vectors.
    assert.ok(Math.abs(cos) < 0.5, `cosine between the tenants' vectors ${cos}`);
  });

  it('the search is served by the HNSW index once the table has some size (EXPLAIN)', async () => {
    const plan = await inTenant(tenants[1], async (trx) => {
      // 3,000 filler accounts with random unit vectors, so the planner prefers the index to a scan.
      await sql`insert into users (id) select gen_random_uuid() from generate_series(1, 3000)`.execute(trx);
      await sql`insert into face_templates (user_id, model, pipeline_version, ciphertext, quality)
        select id, ${engine.modelName}, ${CURRENT_PIPELINE_VERSION}, 'filler', 0.5 from users`.execute(trx);
      await sql`insert into face_vectors (template_id, user_id, embedding)
        select t.id, t.user_id, (select array_agg(random() - 0.5)::real[] from generate_series(1, 128) where t.id is not null)::public.vector
        from face_templates t where t.ciphertext = 'filler'`.execute(trx);
      // As autovacuum would: without statistics the planner guesses the model filter leaves one row.
      await sql`analyze users, face_templates, face_vectors`.execute(trx);
      const support = await detectVectorSupport(trx);
      assert.equal(support.enabled, true);
      const query = vectorParameter(support.enabled ? support.schema : 'public', new Float32Array(128).fill(1 / Math.sqrt(128)));
      const search = nearestTemplatesQuery(support.enabled ? support.schema : 'public', query, { model: engine.modelName, pipelineVersion: CURRENT_PIPELINE_VERSION, excludeUserId: randomUUID(), limit: 5 });
      return (await sql<{ 'QUERY PLAN': string }>`explain ${search}`.execute(trx)).rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    assert.match(plan, /Index Scan using face_vectors_hnsw/, plan);
  });
});
