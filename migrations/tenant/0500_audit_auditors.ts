// Auditors (issue 13): search indexes on the audit trail, the tenant's audit-signing keys, signed
// checkpoints of the chain head (append-only, like the trail) and background exports.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The search API filters by these columns and pages by id (keyset), newest or oldest first.
  for (const column of ['subject', 'actor', 'client_id', 'ip']) {
    await sql.raw(`create index audit_events_${column}_id on audit_events (${column}, id)`).execute(db);
  }
  await sql`create index audit_events_at on audit_events (at)`.execute(db);

  // ES256 keys that sign export manifests and checkpoints; published (public part) to auditors.
  await db.schema
    .createTable('audit_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'retired')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Each checkpoint signs the chain head and the previous checkpoint's signature.
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('event_id', 'bigint', (c) => c.notNull())
    .addColumn('event_hash', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('jws', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    create function audit_checkpoints_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_checkpoints is append-only' using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`create trigger audit_checkpoints_no_update before update or delete on audit_checkpoints for each row execute function audit_checkpoints_immutable()`.execute(db);

  await db.schema
    .createTable('audit_exports')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued').check(sql`status in ('queued', 'running', 'done', 'failed', 'expired')`))
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('filters', 'jsonb', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('rows_total', 'bigint')
    .addColumn('rows_written', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('file_name', 'text')
    .addColumn('bytes', 'bigint')
    .addColumn('sha256', 'text')
    .addColumn('manifest', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_exports', 'audit_checkpoints', 'audit_signing_keys']) await db.schema.dropTable(table).ifExists().execute();
  await sql`drop function if exists audit_checkpoints_immutable()`.execute(db);
  for (const column of ['subject', 'actor', 'client_id', 'ip']) await sql.raw(`drop index if exists audit_events_${column}_id`).execute(db);
  await sql`drop index if exists audit_events_at`.execute(db);
}
