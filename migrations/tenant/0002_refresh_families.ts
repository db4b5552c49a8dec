// Refresh-token families: one row per grant, pointing (by keyed hash) at the one live refresh
// token and the one it replaced, so reuse can be judged atomically under a row lock.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('refresh_families')
    .addColumn('grant_id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('session_uid', 'text')
    // DPoP key thumbprint when the family is sender-constrained.
    .addColumn('jkt', 'text')
    .addColumn('current_hash', 'text')
    .addColumn('previous_hash', 'text')
    .addColumn('previous_spent_at', 'timestamptz')
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('end_reason', 'text')
    .execute();
  await sql`create index refresh_families_account on refresh_families (account_id) where ended_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('refresh_families').execute();
}
