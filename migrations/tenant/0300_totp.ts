// TOTP authenticators: at most one per user. The secret is stored encrypted (the caller's
// encrypt/decrypt pair); last_used_step makes each code single-use and is only ever advanced by a
// conditional UPDATE, so two concurrent submissions of one code cannot both succeed.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('totp_factors')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().unique().references('users.id'))
    .addColumn('secret_encrypted', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull().defaultTo('sha1').check(sql`algorithm in ('sha1', 'sha256', 'sha512')`))
    .addColumn('digits', 'integer', (c) => c.notNull().defaultTo(6).check(sql`digits in (6, 8)`))
    .addColumn('period', 'integer', (c) => c.notNull().defaultTo(30))
    .addColumn('last_used_step', 'bigint')
    // Null while enrollment is pending: the factor counts only after one code has been proven.
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('totp_factors').execute();
}
