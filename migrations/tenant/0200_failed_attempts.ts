// Failed authentication attempts (for the admin console and retention) and per-factor lockout
// state. No foreign key to users: attempts against unknown usernames are recorded too, and
// purging old attempts must not contend with user updates.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('failed_attempts')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('user_id', 'uuid')
    .addColumn('factor', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    // Match and liveness scores for biometric attempts; never images or embeddings.
    .addColumn('scores', 'jsonb')
    .execute();
  await db.schema.createIndex('failed_attempts_at').on('failed_attempts').column('at').execute();
  await db.schema.createIndex('failed_attempts_user_at').on('failed_attempts').columns(['user_id', 'at']).execute();
  await db.schema.createIndex('failed_attempts_ip_at').on('failed_attempts').columns(['ip', 'at']).execute();

  await db.schema
    .createTable('factor_lockouts')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('factor', 'text', (c) => c.notNull())
    // Consecutive failures since the last success or unlock.
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    // How many back-off steps have been taken; the next lock lasts base × 2^level.
    .addColumn('level', 'integer', (c) => c.notNull().defaultTo(0))
    // Set when the overall limit is reached; only an administrator's unlock (or re-enrolment) clears it.
    .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('factor_lockouts_pk', ['user_id', 'factor'])
    .execute();
  await sql`create index factor_lockouts_active on factor_lockouts (locked_until) where disabled or locked_until is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('factor_lockouts').ifExists().execute();
  await db.schema.dropTable('failed_attempts').ifExists().execute();
}
