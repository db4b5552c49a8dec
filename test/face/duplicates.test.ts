import type { TenantKysely } from '../../src/db/tenant-scope.ts';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import * as faceTemplatesMigration from '../../migrations/tenant/0100_face_templates.ts';
import * as facePipelineVersionMigration from '../../migrations/tenant/0520_face_pipeline_version.ts';
import * as faceVectorsMigration from '../../migrations/tenant/0101_face_vectors.ts';
import { createKeyRing, generateFernetKey } from '../../src/crypto/key-ring.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import {
  createDuplicateDetector,
  detectVectorSupport,
  enableDuplicateDetection,
  orthogonalMatrixFromSeed,
  PGVECTOR_MISSING,
  rotate,
} from '../../src/face/duplicates/index.ts';
import { deleteTemplatesForUser, saveTemplate } from '../../src/face/templates/index.ts';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

function randomUnit(size = 128): Float32Array {
  const v = new Float32Array(size).map(() => Math.random() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function nearby(v: Float32Array, noise: number): Float32Array {
  const w = v.map((x) => x + (Math.random() - 0.5) * noise);
  const norm = Math.hypot(...w);
  return w.map((x) => x / norm);
}

describe('secret rotation', () => {
  it('is orthogonal, deterministic per seed, and preserves cosine similarity', () => {
    const seed = randomBytes(32);
    const m = orthogonalMatrixFromSeed(seed);
    for (const [i, j] of [[0, 0], [0, 1], [5, 127], [127, 127], [64, 3]] as const) {
      let sum = 0;
      for (let k = 0; k < 128; k++) sum += m[i * 128 + k]! * m[j * 128 + k]!;
      assert.ok(Math.abs(sum - (i === j ? 1 : 0)) < 1e-9, `row ${i}·row ${j} = ${sum}`);
    }
    assert.deepEqual(orthogonalMatrixFromSeed(seed), m);
    const [a, b] = [randomUnit(), randomUnit()];
    assert.ok(Math.abs(dot(rotate(m, a), rotate(m, b)) - dot(a, b)) < 1e-5);
    // The rotated vector no longer resembles the original or another tenant's rotation of it.
    assert.ok(Math.abs(dot(rotate(m, a), a)) < 0.5);
    assert.ok(Math.abs(dot(rotate(m, a), rotate(orthogonalMatrixFromSeed(randomBytes(32)), a))) < 0.5);
  });
});

describe('duplicate enrolment detection on PGlite (pgvector)', () => {
  let database: Database;
  let db: Kysely<any>;
  const baseKey = generateFernetKey();
  const ring = createKeyRing([baseKey]);
  const detector = createDuplicateDetector({ ring, threshold: 0.8 });

  async function useTenant(schema: string) {
    await sql`set search_path to ${sql.id(schema)}`.execute(db);
  }
  async function enrol(embedding: Float32Array, userId: string = randomUUID()) {
    await db.insertInto('users').values({ id: userId }).onConflict((oc) => oc.doNothing()).execute();
    const { id } = await saveTemplate(db, ring, { userId, model: 'm', embedding, quality: 0.9 });
    return { userId, templateId: id, check: await detector.recordEnrolment(db, { templateId: id, userId, model: 'm', embedding }) };
  }

  before(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    db = database.db;
    for (const schema of ['tenant_a', 'tenant_b']) {
      await sql`create schema ${sql.id(schema)}`.execute(db);
      await useTenant(schema);
      await sql`create table users (id uuid primary key, deleted_at timestamptz)`.execute(db);
      await faceTemplatesMigration.up(db);
      await facePipelineVersionMigration.up(db);
      await faceVectorsMigration.up(db);
    }
    await useTenant('tenant_a');
  });
  after(() => database.close());

  it('reports itself enabled', async () => {
    assert.deepEqual(await detectVectorSupport(db), { enabled: true, schema: 'public' });
  });

  it('flags a second account with the same face, not other faces or the same account', async () => {
    const face = randomUnit();
    const first = await enrol(face);
    assert.deepEqual(first.check, { enabled: true, matches: [] });
    const other = await enrol(randomUnit());
    assert.equal(other.check.matches.length, 0);
    const again = await enrol(nearby(face, 0.02), first.userId);
    assert.equal(again.check.matches.length, 0, 'the same account re-enrolling is not a duplicate');
    const twin = await enrol(nearby(face, 0.05));
    assert.equal(twin.check.enabled, true);
    assert.deepEqual(new Set(twin.check.matches.map((m) => m.userId)), new Set([first.userId]));
    assert.ok(twin.check.matches.every((m) => m.similarity > 0.9));
    const flags = await db.selectFrom('face_duplicate_flags').selectAll().where('user_id', '=', twin.userId).execute();
    assert.equal(flags.length, 2);
    assert.ok(flags.every((flag) => flag.matched_user_id === first.userId && flag.resolved_at === null));

    // Stored vectors are rotated: not the embedding itself.
    const { rows } = await sql<{ embedding: string }>`select embedding::text from face_vectors where template_id = ${first.templateId}`.execute(db);
    const stored = Float32Array.from(JSON.parse(rows[0]!.embedding) as number[]);
    assert.ok(Math.abs(dot(stored, face)) < 0.5);
    assert.ok(Math.abs(dot(stored, stored) - 1) < 1e-4);

    // Deleting the matched account's templates removes its vectors and the flags that named it.
    await deleteTemplatesForUser(db, first.userId);
    assert.equal((await db.selectFrom('face_duplicate_flags').select('id').where('matched_user_id', '=', first.userId).execute()).length, 0);
    assert.equal((await db.selectFrom('face_vectors').select('template_id').where('user_id', '=', first.userId).execute()).length, 0);
  });

  it('uses a different secret transform per tenant', async () => {
    const face = randomUnit();
    const a = await enrol(face);
    await useTenant('tenant_b');
    const b = await enrol(face);
    const read = async (id: string) =>
      Float32Array.from(JSON.parse((await sql<{ e: string }>`select embedding::text as e from face_vectors where template_id = ${id}`.execute(db)).rows[0]!.e));
    const inB = await read(b.templateId);
    await useTenant('tenant_a');
    const inA = await read(a.templateId);
    assert.ok(Math.abs(dot(inA, inB)) < 0.5);
  });

  it('rotating the transform rebuilds every vector and still finds duplicates', async () => {
    const face = randomUnit();
    const original = await enrol(face);
    const before = (await db.selectFrom('face_vector_transform').select('seed_ciphertext').executeTakeFirstOrThrow()).seed_ciphertext;
    const beforeVec = (await sql<{ e: string }>`select embedding::text as e from face_vectors where template_id = ${original.templateId}`.execute(db)).rows[0]!.e;
    const liveTemplates = await db.selectFrom('face_templates').select('id').execute();
    const { vectors } = await detector.rotateTransform(db, { batchSize: 2 });
    assert.equal(vectors, liveTemplates.length);
    const after = (await db.selectFrom('face_vector_transform').select('seed_ciphertext').executeTakeFirstOrThrow()).seed_ciphertext;
    assert.notEqual(after, before);
    const afterVec = (await sql<{ e: string }>`select embedding::text as e from face_vectors where template_id = ${original.templateId}`.execute(db)).rows[0]!.e;
    assert.notEqual(afterVec, beforeVec);
    const twin = await enrol(nearby(face, 0.05));
    assert.deepEqual(twin.check.matches.map((m) => m.userId), [original.userId]);
  });

  it('re-encrypts the transform seed under a new first key', async () => {
    assert.equal(await createDuplicateDetector({ ring }).rekeySeed(db), false, 'already under the first key');
    const newKey = generateFernetKey();
    const rotated = createKeyRing([newKey, baseKey]);
    assert.equal(await createDuplicateDetector({ ring: rotated }).rekeySeed(db), true);
    const row = await db.selectFrom('face_vector_transform').select(['key_id', 'seed_ciphertext']).executeTakeFirstOrThrow();
    assert.equal(row.key_id, rotated.primaryKeyId);
    // Readable with the new key alone, and the search still works with it.
    assert.equal(createKeyRing([newKey]).decrypt(row.seed_ciphertext).length, 32);
  });
});

// Runs where the server lacks pgvector (the extension is installed per server, not per database,
// so a machine that has it cannot show the disabled path; ../shared/bin/install-pgvector adds it).
const pgUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const serverHasPgvector = await (async () => {
  const probe = await openDatabase({ kind: 'postgres', url: pgUrl, poolSize: 1 });
  try {
    return (await sql`select 1 from pg_available_extensions where name = 'vector'`.execute(probe.db)).rows.length > 0;
  } finally {
    await probe.close();
  }
})().catch(() => false);

describe('duplicate enrolment detection on PostgreSQL without pgvector', { skip: serverHasPgvector ? 'this PostgreSQL server offers pgvector' : false }, () => {
  const url = pgUrl;
  let database: Database;
  const schema = `facet_test_dup_${randomBytes(4).toString('hex')}`;

  before(async () => {
    database = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
  });
  after(async () => {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.db);
    await database.close();
  });

  it('is disabled with a clear message, and enrolment still works', async () => {
    await database.db.transaction().execute(async (trx) => {
      await sql`create schema ${sql.id(schema)}`.execute(trx);
      await sql`select set_config('search_path', ${schema}, true)`.execute(trx);
      await sql`create table users (id uuid primary key, deleted_at timestamptz)`.execute(trx);
      await faceTemplatesMigration.up(trx);
      await facePipelineVersionMigration.up(trx);
      await faceVectorsMigration.up(trx);
      const support = await detectVectorSupport((trx as unknown as TenantKysely));
      assert.deepEqual(support, { enabled: false, reason: PGVECTOR_MISSING });
      assert.match(PGVECTOR_MISSING, /pgvector/);
      assert.equal((await sql<{ t: string | null }>`select to_regclass('face_vectors')::text as t`.execute(trx)).rows[0]!.t, null);
      assert.deepEqual(await enableDuplicateDetection((trx as unknown as TenantKysely)), support);
      const userId = randomUUID();
      await trx.insertInto('users').values({ id: userId }).execute();
      const ring = createKeyRing([generateFernetKey()]);
      const { id } = await saveTemplate((trx as unknown as TenantKysely), ring, { userId, model: 'm', embedding: randomUnit(), quality: 0.5 });
      const check = await createDuplicateDetector({ ring }).recordEnrolment((trx as unknown as TenantKysely), { templateId: id, userId, model: 'm', embedding: randomUnit() });
      assert.deepEqual(check, { enabled: false, reason: PGVECTOR_MISSING, matches: [] });
    });
  });
});

describe('enabling duplicate detection for a tenant migrated before pgvector was installed', { skip: serverHasPgvector ? false : 'this PostgreSQL server lacks pgvector' }, () => {
  it('creates the tables by running the face-vectors migration again', async () => {
    const database = await openDatabase({ kind: 'postgres', url: pgUrl, poolSize: 2 });
    const schema = `facet_test_late_${randomBytes(4).toString('hex')}`;
    try {
      await database.db.transaction().execute(async (trx) => {
        await sql`create schema ${sql.id(schema)}`.execute(trx);
        await sql`select set_config('search_path', ${schema}, true)`.execute(trx);
        await sql`create table users (id uuid primary key, deleted_at timestamptz)`.execute(trx);
        await faceTemplatesMigration.up(trx);
        await facePipelineVersionMigration.up(trx);
        // As if 0101 ran while the server had no pgvector: nothing was created.
        assert.equal((await sql<{ t: string | null }>`select to_regclass('face_vectors')::text as t`.execute(trx)).rows[0]!.t, null);
        const support = await enableDuplicateDetection((trx as unknown as TenantKysely));
        assert.equal(support.enabled, true);
        assert.equal((await sql<{ t: string | null }>`select to_regclass('face_vectors')::text as t`.execute(trx)).rows[0]!.t, 'face_vectors');
      });
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.db);
      await database.close();
    }
  });
});
