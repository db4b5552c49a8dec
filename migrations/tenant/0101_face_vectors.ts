// Duplicate-enrolment detection: a keyed rotation of each embedding in a pgvector HNSW index.
// Only where the server offers pgvector (PGlite does; stock Debian PostgreSQL 15 does not). Where
// it is missing this migration does nothing and src/face/duplicates reports the feature disabled.
// The extension lives in one shared schema (public unless already installed elsewhere); tenant
// schemas only reference its type and operator class by qualified name.
import { sql, type Kysely } from 'kysely';

/**
 * Creates the shared extension once. Two tenants created at once on a fresh server would both try,
 * and the second fails on pg_extension's unique index once the first commits ("if not exists" does
 * not see an uncommitted extension; kysely's migration lock is released before the tenant's
 * transaction commits). The first creator takes a transaction lock its peers wait on until it
 * commits; once the extension exists nobody takes it, so provisioning stays parallel.
 */
export async function ensureVectorExtension(db: Kysely<any>): Promise<void> {
  if ((await sql`select 1 from pg_extension where extname = 'vector'`.execute(db)).rows.length > 0) return;
  await sql`select pg_advisory_xact_lock(hashtext('facet: create extension vector'))`.execute(db);
  await sql`create extension if not exists vector with schema public`.execute(db);
}

async function vectorSchema(db: Kysely<any>): Promise<string | undefined> {
  const available = await sql`select 1 from pg_available_extensions where name = 'vector'`.execute(db);
  if (available.rows.length === 0) return undefined;
  await ensureVectorExtension(db);
  const { rows } = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector'`.execute(db);
  return rows[0]?.schema;
}

export async function up(db: Kysely<any>): Promise<void> {
  const schema = await vectorSchema(db);
  if (!schema) return;
  // The tenant's secret rotation, as a random seed encrypted under the embedding key ring.
  await db.schema
    .createTable('face_vector_transform')
    .addColumn('singleton', 'boolean', (c) => c.primaryKey().defaultTo(true).check(sql`singleton`))
    .addColumn('seed_ciphertext', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    create table face_vectors (
      template_id uuid primary key references face_templates (id) on delete cascade,
      user_id uuid not null references users (id),
      embedding ${sql.id(schema)}.vector(128) not null
    )`.execute(db);
  await sql`create index face_vectors_hnsw on face_vectors using hnsw (embedding ${sql.id(schema)}.vector_cosine_ops)`.execute(db);
  await sql`create index face_vectors_user on face_vectors (user_id)`.execute(db);
  // For the admin: a new enrolment that resembles another account. Holds no biometric data.
  await db.schema
    .createTable('face_duplicate_flags')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('template_id', 'uuid', (c) => c.notNull().references('face_templates.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('matched_template_id', 'uuid', (c) => c.notNull().references('face_templates.id').onDelete('cascade'))
    .addColumn('matched_user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('similarity', 'real', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('resolution', 'text')
    .execute();
  await sql`create index face_duplicate_flags_open on face_duplicate_flags (created_at) where resolved_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['face_duplicate_flags', 'face_vectors', 'face_vector_transform']) {
    await db.schema.dropTable(table).ifExists().cascade().execute();
  }
}
