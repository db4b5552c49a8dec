// A tenant schema holding what face templates need: users, face_templates with its pipeline
// version, and (optionally) pgvector's face_vectors. On PGlite (one connection) the session's
// search_path stands in for the tenant transaction a caller would have.
import { sql, type Kysely } from 'kysely';
import * as faceTemplatesMigration from '../../migrations/tenant/0100_face_templates.ts';
import * as faceVectorsMigration from '../../migrations/tenant/0101_face_vectors.ts';
import * as facePipelineVersionMigration from '../../migrations/tenant/0520_face_pipeline_version.ts';

export async function createFaceSchema(db: Kysely<any>, schema: string, { vectors = true }: { vectors?: boolean } = {}): Promise<void> {
  await sql`create schema ${sql.id(schema)}`.execute(db);
  await sql`set search_path to ${sql.id(schema)}`.execute(db);
  await sql`create table users (id uuid primary key, deleted_at timestamptz)`.execute(db);
  await faceTemplatesMigration.up(db);
  await facePipelineVersionMigration.up(db);
  if (vectors) await faceVectorsMigration.up(db);
}
