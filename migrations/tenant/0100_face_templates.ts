// Face templates at rest: one row per enrolled embedding, Fernet-encrypted under the installation's
// embedding key ring (FACET_EMBEDDING_KEYS). `key_id` names the key that encrypted the row (Fernet
// tokens do not), so a re-key can skip rows already under the current key and resume after a stop.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('face_templates')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    // The embedding model's name: embeddings of different models are not comparable.
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('quality', 'real', (c) => c.notNull().check(sql`quality >= 0 and quality <= 1`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('key_id', 'text')
    .execute();
  await db.schema.createIndex('face_templates_user').on('face_templates').column('user_id').execute();
  await db.schema.createIndex('face_templates_key').on('face_templates').columns(['key_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('face_templates').ifExists().cascade().execute();
}
