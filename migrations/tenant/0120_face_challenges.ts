// Active-liveness challenges for the face prompt: issued by the server, bound to one interaction
// (or account flow), single use (deleted when taken) and short-lived. Only the head movements
// asked for are stored; never an image or a measurement of a face.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('face_challenges')
    .addColumn('binding', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('challenge_id', 'uuid', (c) => c.notNull())
    .addColumn('steps', 'jsonb', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('face_challenges').execute();
}
