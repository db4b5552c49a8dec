// When each factor was last completed within one OIDC session, so acr policies with a maximum
// age per factor (and max_age / prompt=login) can be judged per factor.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('session_factors')
    .addColumn('session_uid', 'text', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('factor', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('amr', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addPrimaryKeyConstraint('session_factors_pk', ['session_uid', 'factor'])
    .execute();
  await db.schema.createIndex('session_factors_user').on('session_factors').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('session_factors').execute();
}
