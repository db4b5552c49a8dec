// Checkpoint delivery (issue 13): each external sink (a directory, an HTTP endpoint) has a cursor,
// the last checkpoint seq it received. Delivery hands a sink every checkpoint after its cursor, in
// order, and advances the cursor only after the sink accepted it; a sink that fails keeps its
// cursor (and counts the failures), so a checkpoint is retried until it arrives, never skipped.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_checkpoint_sinks')
    .addColumn('sink', 'text', (c) => c.primaryKey())
    .addColumn('delivered_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'timestamptz')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_checkpoint_sinks').ifExists().execute();
}
