// Face templates record the face pipeline version that made their embedding (src/face/pipeline.ts):
// a new alignment or flip averaging changes what an embedding means, so a verify must compare a
// probe made the same way. Templates enrolled before this migration were made by version 1. The
// default is dropped afterwards so every new row has to say which version made it.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('face_templates')
    .addColumn('pipeline_version', 'smallint', (c) => c.notNull().defaultTo(1).check(sql`pipeline_version >= 1`))
    .execute();
  await sql`alter table face_templates alter column pipeline_version drop default`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('face_templates').dropColumn('pipeline_version').execute();
}
