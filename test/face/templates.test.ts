import type { TenantKysely } from '../../src/db/tenant-scope.ts';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { generateFernetKey, createKeyRing, assertRingDecrypts } from '../../src/crypto/key-ring.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import * as faceTemplatesMigration from '../../migrations/tenant/0100_face_templates.ts';
import * as facePipelineVersionMigration from '../../migrations/tenant/0520_face_pipeline_version.ts';
import {
  compareTemplates,
  decodeTemplate,
  deleteTemplatesForUser,
  encodeTemplate,
  FaceTemplateError,
  loadTemplates,
  rekeyTemplates,
  sampleTemplateCiphertexts,
  saveTemplate,
} from '../../src/face/templates/index.ts';
import { encodeTemplateV1 } from '../../src/face/templates/codec.ts';
import { CURRENT_PIPELINE_VERSION } from '../../src/face/pipeline.ts';
import { createFaceSchema } from '../support/face-schema.ts';

function unitVector(seed: number, size = 128): Float32Array {
  const v = new Float32Array(size).map((_, i) => Math.sin(seed * 31 + i * 7.3));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

let database: Database;
let db: Kysely<any>;

async function newUser(deleted = false): Promise<string> {
  const id = randomUUID();
  await db.insertInto('users').values({ id, deleted_at: deleted ? new Date() : null }).execute();
  return id;
}

before(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  db = database.db;
  await createFaceSchema(db, 'tenant_t', { vectors: false });
});
after(() => database.close());

describe('face template store', () => {
  it('saves encrypted, loads decrypted, bound to user and model', async () => {
    const ring = createKeyRing([generateFernetKey()]);
    const userId = await newUser();
    const embedding = unitVector(1);
    const { id } = await saveTemplate(db, ring, { userId, model: 'mobilefacenet', embedding, quality: 0.8 });
    const row = await db.selectFrom('face_templates').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.match(row.ciphertext, /^gAAAAA/);
    assert.equal(row.key_id, ring.primaryKeyId);
    // The embedding bytes do not appear in the stored row.
    assert.ok(!row.ciphertext.includes(Buffer.from(embedding.buffer).toString('base64url').slice(0, 16)));
    const [loaded] = await loadTemplates(db, ring, userId);
    assert.equal(loaded!.id, id);
    assert.equal(loaded!.model, 'mobilefacenet');
    assert.deepEqual(loaded!.embedding, embedding);
    assert.ok(Math.abs(loaded!.quality - 0.8) < 1e-6);
  });

  it('refuses a template copied into another user\'s row', async () => {
    const ring = createKeyRing([generateFernetKey()]);
    const [attacker, victim] = [await newUser(), await newUser()];
    const { id } = await saveTemplate(db, ring, { userId: attacker, model: 'm', embedding: unitVector(2), quality: 0.9 });
    await db.updateTable('face_templates').set({ user_id: victim }).where('id', '=', id).execute();
    await assert.rejects(loadTemplates(db, ring, victim), { code: 'face_template_integrity' });
    await db.updateTable('face_templates').set({ user_id: attacker, model: 'other' }).where('id', '=', id).execute();
    await assert.rejects(loadTemplates(db, ring, attacker), { code: 'face_template_integrity' });
    // The pipeline version is bound too: relabelling a row would make it compare the wrong way.
    await db.updateTable('face_templates').set({ model: 'm', pipeline_version: 1 }).where('id', '=', id).execute();
    await assert.rejects(loadTemplates(db, ring, attacker), { code: 'face_template_integrity' });
    await db.updateTable('face_templates').set({ pipeline_version: CURRENT_PIPELINE_VERSION }).where('id', '=', id).execute();
    assert.equal((await loadTemplates(db, ring, attacker))[0]!.pipelineVersion, CURRENT_PIPELINE_VERSION);
  });

  it('reads tokens written before pipeline versions (format 0x01) as version 1', async () => {
    const ring = createKeyRing([generateFernetKey()]);
    const userId = await newUser();
    const embedding = unitVector(7);
    const old = encodeTemplateV1({ userId, model: 'm', embedding });
    assert.equal(old[0], 0x01);
    assert.deepEqual(decodeTemplate(old), { userId, model: 'm', pipelineVersion: 1, embedding });
    const current = encodeTemplate({ userId, model: 'm', pipelineVersion: 2, embedding });
    assert.equal(current[0], 0x02);
    assert.deepEqual(decodeTemplate(current), { userId, model: 'm', pipelineVersion: 2, embedding });
    assert.throws(() => encodeTemplate({ userId, model: 'm', pipelineVersion: 0, embedding }), { code: 'face_template_invalid_embedding' });
    await db.insertInto('face_templates').values({ user_id: userId, model: 'm', pipeline_version: 1, ciphertext: ring.encrypt(old), quality: 0.5, key_id: ring.primaryKeyId }).execute();
    const [loaded] = await loadTemplates(db, ring, userId);
    assert.equal(loaded!.pipelineVersion, 1);
    assert.deepEqual(loaded!.embedding, embedding);
  });

  it('rejects bad input with specific errors', async () => {
    const ring = createKeyRing([generateFernetKey()]);
    const userId = await newUser();
    await assert.rejects(saveTemplate(db, ring, { userId, model: 'm', embedding: new Float32Array(128), quality: 0.5 }), { code: 'face_template_invalid_embedding' });
    await assert.rejects(saveTemplate(db, ring, { userId, model: 'm', embedding: unitVector(1).fill(Number.NaN, 3, 4), quality: 0.5 }), { code: 'face_template_invalid_embedding' });
    await assert.rejects(saveTemplate(db, ring, { userId, model: 'm', embedding: unitVector(1), quality: 1.5 }), { code: 'face_template_invalid_quality' });
    await assert.rejects(saveTemplate(db, ring, { userId: 'bob', model: 'm', embedding: unitVector(1), quality: 0.5 }), { code: 'face_template_invalid_user' });
  });

  it('refuses to compare templates of different models', () => {
    assert.throws(
      () => compareTemplates({ model: 'a', embedding: unitVector(1) }, { model: 'b', embedding: unitVector(1) }),
      (error: unknown) => error instanceof FaceTemplateError && error.code === 'face_template_model_mismatch',
    );
    assert.ok(Math.abs(compareTemplates({ model: 'a', embedding: unitVector(1) }, { model: 'a', embedding: unitVector(1) }) - 1) < 1e-6);
    assert.ok(compareTemplates({ model: 'a', embedding: unitVector(1) }, { model: 'a', embedding: unitVector(9) }) < 0.9);
  });

  it('deleting a user\'s templates destroys them, and soft-deleted users load none', async () => {
    const ring = createKeyRing([generateFernetKey()]);
    const userId = await newUser();
    await saveTemplate(db, ring, { userId, model: 'm', embedding: unitVector(3), quality: 0.5 });
    await saveTemplate(db, ring, { userId, model: 'm', embedding: unitVector(4), quality: 0.6 });
    assert.equal((await loadTemplates(db, ring, userId)).length, 2);
    await db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', userId).execute();
    assert.equal((await loadTemplates(db, ring, userId)).length, 0);
    assert.equal(await deleteTemplatesForUser(db, userId), 2);
    const left = await db.selectFrom('face_templates').select('id').where('user_id', '=', userId).execute();
    assert.equal(left.length, 0);
  });

  it('re-keys in resumable batches, skips what is done, and the old key can then go', async () => {
    await db.deleteFrom('face_templates').execute();
    const [oldKey, newKey] = [generateFernetKey(), generateFernetKey()];
    const oldRing = createKeyRing([oldKey]);
    const users = [] as string[];
    for (let i = 0; i < 7; i++) {
      const userId = await newUser();
      users.push(userId);
      await saveTemplate(db, oldRing, { userId, model: 'm', embedding: unitVector(10 + i), quality: 0.7 });
    }
    // One row whose key id was lost: it is already under the new key, so it is only relabelled.
    const newRing = createKeyRing([newKey, oldKey]);
    const extra = await newUser();
    const { id: unlabelled } = await saveTemplate(db, newRing, { userId: extra, model: 'm', embedding: unitVector(99), quality: 0.7 });
    await db.updateTable('face_templates').set({ key_id: null }).where('id', '=', unlabelled).execute();

    const samples = await sampleTemplateCiphertexts(db);
    assert.throws(() => assertRingDecrypts(createKeyRing([newKey]), samples), { code: 'key_ring_cannot_decrypt' });

    // A run stopped after the first batch…
    const reports: number[] = [];
    let stopped: { lastId: string } | undefined;
    await assert.rejects(
      rekeyTemplates(db, newRing, {
        batchSize: 3,
        onProgress: (progress) => {
          reports.push(progress.rekeyed + progress.relabelled);
          stopped = progress;
          throw new Error('stop');
        },
      }),
      /stop/,
    );
    assert.deepEqual(reports, [3]);
    // …resumes from where it reported.
    const final = await rekeyTemplates(db, newRing, { batchSize: 3, afterId: stopped!.lastId, onProgress: (p) => reports.push(p.rekeyed + p.relabelled) });
    assert.equal(final.rekeyed + final.relabelled, 5);
    assert.equal(final.relabelled, stopped!.lastId < unlabelled ? 1 : 0);
    // A second full run has nothing to do.
    const again = await rekeyTemplates(db, newRing, { batchSize: 3 });
    assert.deepEqual([again.rekeyed, again.relabelled], [0, 0]);

    const rows = await db.selectFrom('face_templates').select(['key_id']).execute();
    assert.ok(rows.every((row) => row.key_id === newRing.primaryKeyId));
    const newOnly = createKeyRing([newKey]);
    assertRingDecrypts(newOnly, await sampleTemplateCiphertexts(db));
    for (const [i, userId] of users.entries()) {
      const [template] = await loadTemplates(db, newOnly, userId);
      assert.deepEqual(template!.embedding, unitVector(10 + i));
    }
  });
});

describe('face template store on PostgreSQL', () => {
  it('saves, loads, re-keys and deletes in a throwaway tenant schema', async () => {
    const server = await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', poolSize: 2 });
    const schema = `facet_test_tpl_${randomUUID().slice(0, 8)}`;
    try {
      await server.db.transaction().execute(async (trx) => {
        await sql`create schema ${sql.id(schema)}`.execute(trx);
        await sql`select set_config('search_path', ${schema}, true)`.execute(trx);
        await sql`create table users (id uuid primary key, deleted_at timestamptz)`.execute(trx);
        await faceTemplatesMigration.up(trx);
        await facePipelineVersionMigration.up(trx);
        const [oldKey, newKey] = [generateFernetKey(), generateFernetKey()];
        const userId = randomUUID();
        await trx.insertInto('users').values({ id: userId }).execute();
        await saveTemplate((trx as unknown as TenantKysely), createKeyRing([oldKey]), { userId, model: 'm', embedding: unitVector(5), quality: 0.75 });
        const ring = createKeyRing([newKey, oldKey]);
        assert.equal((await rekeyTemplates((trx as unknown as TenantKysely), ring)).rekeyed, 1);
        const [loaded] = await loadTemplates((trx as unknown as TenantKysely), createKeyRing([newKey]), userId);
        assert.deepEqual(loaded!.embedding, unitVector(5));
        assert.equal(loaded!.keyId, ring.primaryKeyId);
        assert.equal(await deleteTemplatesForUser((trx as unknown as TenantKysely), userId), 1);
        assert.deepEqual(await loadTemplates((trx as unknown as TenantKysely), ring, userId), []);
      });
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(server.db);
      await server.close();
    }
  });
});
