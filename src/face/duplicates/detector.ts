// Duplicate-enrolment detection: at enrolment, search the tenant's other accounts for a face close
// to the new one and flag matches for an administrator (the enrolment itself goes ahead: a
// resemblance is a lead for a human, not proof of fraud). Vectors are stored rotated by the
// tenant's secret transform (rotation.ts), whose seed is kept Fernet-encrypted under the key ring.
import { randomBytes } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { KeyRing } from '../../crypto/key-ring.ts';
import { rerunTenantMigration } from '../../db/migrations.ts';
import { CURRENT_PIPELINE_VERSION } from '../pipeline.ts';
import { openTemplateRow, TEMPLATE_COLUMNS, type TemplateRow } from '../templates/store.ts';
import { orthogonalMatrixFromSeed, rotate } from './rotation.ts';
import { detectVectorSupport, PGVECTOR_MISSING, type VectorSupport } from './support.ts';
import type { TenantKysely } from '../../db/tenant-scope.ts';

/** The vector column is vector(128): the size of MobileFaceNet and SFace embeddings. */
export const DUPLICATE_VECTOR_SIZE = 128;

export interface DuplicateMatch {
  userId: string;
  templateId: string;
  similarity: number;
}

export type DuplicateCheck = { enabled: true; matches: DuplicateMatch[] } | { enabled: false; reason: string; matches: [] };

export interface NewEnrolment {
  templateId: string;
  userId: string;
  model: string;
  /** Pipeline version of the embedding (default the current one): only templates of the same version are compared. */
  pipelineVersion?: number;
  embedding: Float32Array;
  /**
   * The same face embedded by other (older) pipeline versions, by version. Templates of a version
   * not upgraded yet are searched with its own embedding, like with like, so a pipeline change
   * does not hide the accounts enrolled before it. Only `embedding` is indexed.
   */
  otherEmbeddings?: Readonly<Record<number, Float32Array>>;
}

export interface DuplicateDetector {
  status(db: TenantKysely): Promise<VectorSupport>;
  /** Searches other live accounts, records flags above the threshold, then indexes the new template. */
  recordEnrolment(db: TenantKysely, enrolment: NewEnrolment): Promise<DuplicateCheck>;
  /** New transform key for the tenant; rebuilds every vector from the Fernet templates. */
  rotateTransform(db: TenantKysely, options?: { batchSize?: number }): Promise<{ vectors: number }>;
  /** Re-encrypts the transform seed under the ring's first key (part of a key-ring rotation). */
  rekeySeed(db: TenantKysely): Promise<boolean>;
}

export interface DuplicateDetectorOptions {
  ring: KeyRing;
  /**
   * Cosine similarity at or above which two accounts are flagged. This is a 1:N search, so it
   * must be stricter than the 1:1 verification threshold: the default is the threshold measured
   * for FMR 1e-5 on LFW with MobileFaceNet and pipeline version 2, rounded up (0.4672 → 0.468;
   * docs/face-templates.md).
   */
  threshold?: number;
  /** Nearest neighbours examined per enrolment. */
  limit?: number;
}

export const DEFAULT_DUPLICATE_THRESHOLD = 0.468;

function vectorLiteral(schema: string, embedding: Float32Array): RawBuilder<unknown> {
  return sql`${`[${Array.from(embedding).join(',')}]`}::${sql.id(schema)}.vector`;
}

function cosineDistance(schema: string): RawBuilder<unknown> {
  return sql`operator(${sql.id(schema)}.<=>)`;
}

/**
 * The enrolment search: nearest vectors of other live accounts with the same model and pipeline
 * version, by cosine distance, so the HNSW index (vector_cosine_ops) can serve the ORDER BY.
 */
export function nearestTemplatesQuery(
  schema: string,
  query: RawBuilder<unknown>,
  { model, pipelineVersion, excludeUserId, limit }: { model: string; pipelineVersion: number; excludeUserId: string; limit: number },
): RawBuilder<{ template_id: string; user_id: string; similarity: number }> {
  return sql<{ template_id: string; user_id: string; similarity: number }>`
    select v.template_id, v.user_id, 1 - (v.embedding ${cosineDistance(schema)} ${query}) as similarity
    from face_vectors v
    join face_templates t on t.id = v.template_id and t.model = ${model} and t.pipeline_version = ${pipelineVersion}
    join users u on u.id = v.user_id and u.deleted_at is null
    where v.user_id <> ${excludeUserId}
    order by v.embedding ${cosineDistance(schema)} ${query}
    limit ${limit}`;
}

/** A pgvector literal of an embedding (already rotated, for nearestTemplatesQuery). */
export function vectorParameter(schema: string, embedding: Float32Array): RawBuilder<unknown> {
  return vectorLiteral(schema, embedding);
}

/** Creates the duplicate tables for a tenant whose migration ran before pgvector was installed. */
export async function enableDuplicateDetection(db: TenantKysely): Promise<VectorSupport> {
  const available = await sql`select 1 from pg_available_extensions where name = 'vector'`.execute(db);
  if (available.rows.length === 0) return { enabled: false, reason: PGVECTOR_MISSING };
  const table = await sql<{ ok: string | null }>`select to_regclass('face_vectors')::text as ok`.execute(db);
  if (!table.rows[0]?.ok) await rerunTenantMigration(db, '0101_face_vectors');
  return detectVectorSupport(db);
}

export function createDuplicateDetector({ ring, threshold = DEFAULT_DUPLICATE_THRESHOLD, limit = 5 }: DuplicateDetectorOptions): DuplicateDetector {
  // Per detector (per process), never per module: the matrices are tenant secrets.
  const matrices = new Map<string, Float64Array>();

  function matrixFor(seed: Buffer): Float64Array {
    const cacheKey = seed.toString('base64');
    let matrix = matrices.get(cacheKey);
    if (!matrix) {
      matrix = orthogonalMatrixFromSeed(seed, DUPLICATE_VECTOR_SIZE);
      if (matrices.size >= 64) matrices.delete(matrices.keys().next().value!);
      matrices.set(cacheKey, matrix);
    }
    return matrix;
  }

  async function transform(db: TenantKysely): Promise<Float64Array> {
    let row = await db.selectFrom('face_vector_transform').select('seed_ciphertext').executeTakeFirst();
    if (!row) {
      await db
        .insertInto('face_vector_transform')
        .values({ seed_ciphertext: ring.encrypt(randomBytes(32)), key_id: ring.primaryKeyId })
        .onConflict((oc) => oc.column('singleton').doNothing())
        .execute();
      row = await db.selectFrom('face_vector_transform').select('seed_ciphertext').executeTakeFirstOrThrow();
    }
    return matrixFor(ring.decrypt(row.seed_ciphertext as string));
  }

  async function insertVector(db: TenantKysely, schema: string, matrix: Float64Array, enrolment: Omit<NewEnrolment, 'model'>) {
    await sql`insert into face_vectors (template_id, user_id, embedding)
      values (${enrolment.templateId}, ${enrolment.userId}, ${vectorLiteral(schema, rotate(matrix, enrolment.embedding))})`.execute(db);
  }

  return {
    status: detectVectorSupport,

    async recordEnrolment(db, enrolment) {
      const support = await detectVectorSupport(db);
      if (!support.enabled) return { enabled: false, reason: support.reason, matches: [] };
      if (enrolment.embedding.length !== DUPLICATE_VECTOR_SIZE) {
        return { enabled: false, reason: `duplicate-enrolment detection supports ${DUPLICATE_VECTOR_SIZE}-dimensional embeddings only`, matches: [] };
      }
      const matrix = await transform(db);
      const version = enrolment.pipelineVersion ?? CURRENT_PIPELINE_VERSION;
      const searches: Array<[number, Float32Array]> = [
        [version, enrolment.embedding],
        ...Object.entries(enrolment.otherEmbeddings ?? {})
          .map(([v, embedding]) => [Number(v), embedding] as [number, Float32Array])
          .filter(([v, embedding]) => v !== version && embedding.length === DUPLICATE_VECTOR_SIZE),
      ];
      const matches: DuplicateMatch[] = [];
      for (const [pipelineVersion, embedding] of searches) {
        const query = vectorLiteral(support.schema, rotate(matrix, embedding));
        const { rows } = await nearestTemplatesQuery(support.schema, query, { model: enrolment.model, pipelineVersion, excludeUserId: enrolment.userId, limit }).execute(db);
        for (const row of rows) {
          const similarity = Number(row.similarity);
          if (similarity >= threshold) matches.push({ userId: row.user_id, templateId: row.template_id, similarity });
        }
      }
      for (const match of matches) {
        await db
          .insertInto('face_duplicate_flags')
          .values({
            template_id: enrolment.templateId,
            user_id: enrolment.userId,
            matched_template_id: match.templateId,
            matched_user_id: match.userId,
            similarity: match.similarity,
          })
          .execute();
      }
      await insertVector(db, support.schema, matrix, enrolment);
      return { enabled: true, matches };
    },

    async rotateTransform(db, { batchSize = 500 } = {}) {
      const support = await detectVectorSupport(db);
      if (!support.enabled) throw new Error(support.reason);
      const seedCiphertext = ring.encrypt(randomBytes(32));
      await db
        .insertInto('face_vector_transform')
        .values({ seed_ciphertext: seedCiphertext, key_id: ring.primaryKeyId })
        .onConflict((oc) => oc.column('singleton').doUpdateSet({ seed_ciphertext: seedCiphertext, key_id: ring.primaryKeyId, created_at: sql`now()` }))
        .execute();
      await db.deleteFrom('face_vectors').execute();
      const matrix = await transform(db);
      let lastId = '00000000-0000-0000-0000-000000000000';
      let vectors = 0;
      for (;;) {
        const rows = (await db
          .selectFrom('face_templates as t')
          .innerJoin('users as u', 'u.id', 't.user_id')
          .select(TEMPLATE_COLUMNS.map((c) => `t.${c}` as const))
          .where('u.deleted_at', 'is', null)
          .where('t.id', '>', lastId)
          .orderBy('t.id')
          .limit(batchSize)
          .execute()) as TemplateRow[];
        for (const row of rows) {
          const template = openTemplateRow(ring, row);
          if (template.embedding.length !== DUPLICATE_VECTOR_SIZE) continue;
          await insertVector(db, support.schema, matrix, { templateId: template.id, userId: template.userId, embedding: template.embedding });
          vectors += 1;
        }
        if (rows.length < batchSize) return { vectors };
        lastId = rows[rows.length - 1]!.id;
      }
    },

    async rekeySeed(db) {
      const row = await db.selectFrom('face_vector_transform').select(['seed_ciphertext', 'key_id']).executeTakeFirst();
      if (!row || row.key_id === ring.primaryKeyId) return false;
      const seed = ring.decrypt(row.seed_ciphertext as string);
      await db.updateTable('face_vector_transform').set({ seed_ciphertext: ring.encrypt(seed), key_id: ring.primaryKeyId }).execute();
      return true;
    },
  };
}
