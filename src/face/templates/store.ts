// Face template rows. Every function takes a Kysely handle already scoped to the tenant (the
// caller's tenant transaction sets role and search_path), so table names stay unqualified.
import type { Kysely } from 'kysely';
import { FernetError } from '../../crypto/fernet.ts';
import type { KeyRing } from '../../crypto/key-ring.ts';
import { CURRENT_PIPELINE_VERSION } from '../pipeline.ts';
import { assertUuid, decodeTemplate, encodeTemplate } from './codec.ts';
import { FaceTemplateError } from './errors.ts';
import type { TenantKysely } from '../../db/tenant-scope.ts';

export interface NewTemplate {
  userId: string;
  model: string;
  /** The face pipeline version that made the embedding (default: the current one). */
  pipelineVersion?: number;
  embedding: Float32Array;
  quality: number;
}

export interface StoredTemplate {
  id: string;
  userId: string;
  model: string;
  pipelineVersion: number;
  embedding: Float32Array;
  quality: number;
  createdAt: Date;
  keyId: string | null;
}

export interface TemplateRow {
  id: string;
  user_id: string;
  model: string;
  pipeline_version: number;
  ciphertext: string;
  quality: number;
  created_at: Date;
  key_id: string | null;
}

/** Columns openTemplateRow needs. */
export const TEMPLATE_COLUMNS = ['id', 'user_id', 'model', 'pipeline_version', 'ciphertext', 'quality', 'created_at', 'key_id'] as const;

export async function saveTemplate(db: TenantKysely, ring: KeyRing, template: NewTemplate): Promise<{ id: string }> {
  const { userId, model, pipelineVersion = CURRENT_PIPELINE_VERSION, embedding, quality } = template;
  if (typeof quality !== 'number' || !(quality >= 0 && quality <= 1)) {
    throw new FaceTemplateError('face_template_invalid_quality', 'quality must be a number between 0 and 1');
  }
  const ciphertext = ring.encrypt(encodeTemplate({ userId, model, pipelineVersion, embedding }));
  const row = await db
    .insertInto('face_templates')
    .values({ user_id: userId, model, pipeline_version: pipelineVersion, ciphertext, quality, key_id: ring.primaryKeyId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id as string };
}

/** Decrypts one row and checks it belongs where it is stored (see codec.ts for why). */
export function openTemplateRow(ring: KeyRing, row: TemplateRow): StoredTemplate & { openedWith: string } {
  let opened: { plaintext: Buffer; keyId: string };
  try {
    opened = ring.open(row.ciphertext);
  } catch (cause) {
    if (cause instanceof FernetError) {
      throw new FaceTemplateError('face_template_undecryptable', 'a stored face template cannot be decrypted with FACET_EMBEDDING_KEYS', { cause });
    }
    throw cause;
  }
  const plain = decodeTemplate(opened.plaintext);
  if (plain.userId !== row.user_id.toLowerCase() || plain.model !== row.model || plain.pipelineVersion !== Number(row.pipeline_version)) {
    throw new FaceTemplateError('face_template_integrity', 'a stored face template does not belong to the row that holds it');
  }
  return {
    id: row.id,
    userId: row.user_id,
    model: row.model,
    pipelineVersion: plain.pipelineVersion,
    embedding: plain.embedding,
    quality: Number(row.quality),
    createdAt: new Date(row.created_at),
    keyId: row.key_id,
    openedWith: opened.keyId,
  };
}

/** A live user's templates, best quality first. A soft-deleted user has none. */
export async function loadTemplates(db: TenantKysely, ring: KeyRing, userId: string): Promise<StoredTemplate[]> {
  assertUuid(userId);
  const rows = (await db
    .selectFrom('face_templates as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(TEMPLATE_COLUMNS.map((c) => `t.${c}` as const))
    .where('t.user_id', '=', userId)
    .where('u.deleted_at', 'is', null)
    .orderBy('t.quality', 'desc')
    .orderBy('t.id')
    .execute()) as TemplateRow[];
  return rows.map((row) => {
    const { openedWith: _openedWith, ...template } = openTemplateRow(ring, row);
    return template;
  });
}

/** The pipeline versions a user's templates were made with (to embed probes only those ways). */
export async function templateVersions(db: TenantKysely, userId: string): Promise<number[]> {
  assertUuid(userId);
  const rows = await db.selectFrom('face_templates').select('pipeline_version').distinct().where('user_id', '=', userId).execute();
  return rows.map((row) => Number(row.pipeline_version));
}

/** Whether a user has a face enrolled. */
export async function hasTemplates(db: TenantKysely, userId: string): Promise<boolean> {
  assertUuid(userId);
  return Boolean(await db.selectFrom('face_templates').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst());
}

/** Deletes one template of a user (a template replaced by one of the current pipeline version). */
export async function deleteTemplate(db: TenantKysely, userId: string, templateId: string): Promise<boolean> {
  assertUuid(userId);
  assertUuid(templateId);
  const result = await db.deleteFrom('face_templates').where('id', '=', templateId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/**
 * Destroys a user's templates at once (soft-deleting a user calls this). Rows that reference a
 * template (duplicate-detection vectors and flags) go with it through ON DELETE CASCADE.
 */
export async function deleteTemplatesForUser(db: TenantKysely, userId: string): Promise<number> {
  assertUuid(userId);
  const result = await db.deleteFrom('face_templates').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A few ciphertexts to test a key ring against at boot (assertRingDecrypts). */
export async function sampleTemplateCiphertexts(db: TenantKysely, { limit = 5 }: { limit?: number } = {}): Promise<string[]> {
  // One per distinct key id, then the newest: a key dropped from the ring shows up in the sample.
  const rows = await db
    .selectFrom('face_templates')
    .select(['ciphertext', 'key_id'])
    .distinctOn('key_id')
    .orderBy('key_id')
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => row.ciphertext as string);
}
