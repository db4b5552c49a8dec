// Consent a user gave a (third-party) client, remembered beyond one oidc-provider session: the
// next sign-in gets a new grant with these scopes and claims without asking again, unless the
// client asks for more. Cleared by "sign out everywhere" and account deletion.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('remembered_consents')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('scopes', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('claims', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // { "<resource indicator>": ["scope", …] }
    .addColumn('resources', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('remembered_consents_pk', ['user_id', 'client_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('remembered_consents').ifExists().execute();
}
