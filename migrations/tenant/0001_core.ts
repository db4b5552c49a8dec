// The core of a tenant schema: users, OIDC protocol state, clients, signing keys, audit trail.
// See docs/data-model.md for the foreign-key graph.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_verified', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('display_name', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'locked', 'disabled')`))
    // Random per user; the WebAuthn user handle, never the username or email.
    .addColumn('webauthn_user_handle', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  // Unique among live users only: a soft-deleted account does not hold its name hostage.
  await sql`create unique index users_username_live on users (lower(username)) where deleted_at is null`.execute(db);
  await sql`create unique index users_email_live on users (lower(email)) where deleted_at is null and email is not null`.execute(db);

  // oidc-provider's models (sessions, grants, codes, tokens, interactions …). Ids are stored only
  // as keyed hashes, so a copy of this table holds no usable token or session cookie.
  await db.schema
    .createTable('oidc_records')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('id_hash', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('user_code_hash', 'text')
    .addColumn('uid', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('consumed_at', 'timestamptz')
    .addPrimaryKeyConstraint('oidc_records_pk', ['kind', 'id_hash'])
    .execute();
  await db.schema.createIndex('oidc_records_grant').on('oidc_records').column('grant_id').where(sql.ref('grant_id'), 'is not', null).execute();
  await db.schema.createIndex('oidc_records_uid').on('oidc_records').column('uid').where(sql.ref('uid'), 'is not', null).execute();
  await db.schema.createIndex('oidc_records_user_code').on('oidc_records').column('user_code_hash').where(sql.ref('user_code_hash'), 'is not', null).execute();
  await db.schema.createIndex('oidc_records_expiry').on('oidc_records').column('expires_at').execute();

  await db.schema
    .createTable('clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    // Client metadata as oidc-provider takes it, without the secret.
    .addColumn('metadata', 'jsonb', (c) => c.notNull())
    // Name of the environment variable that holds the secret (the database never holds it).
    .addColumn('secret_env', 'text')
    // A published development fallback for that variable (refused in production).
    .addColumn('secret_dev', 'text')
    .addColumn('first_party', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('file').check(sql`source in ('file', 'admin')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    // AES-256-GCM under the installation's key-encryption key.
    .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'retiring', 'retired')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('retire_at', 'timestamptz')
    .execute();

  // Append-only and hash-chained. No foreign keys: the trail must outlive any row it mentions.
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('subject', 'text')
    .addColumn('client_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_type_at').on('audit_events').columns(['type', 'at']).execute();

  // The chain is computed in the database so no code path can append without it. A transaction-
  // scoped advisory lock serialises appends within the tenant, so two writers never fork the chain.
  await sql`
    create function audit_events_chain() returns trigger language plpgsql as $$
    declare
      previous text;
    begin
      perform pg_advisory_xact_lock(hashtext(tg_table_schema || '.audit_events'));
      -- The id is drawn again under the lock, so id order is chain order even when the default
      -- was drawn by a transaction that then waited for the lock.
      new.id := nextval(pg_get_serial_sequence(tg_table_schema || '.audit_events', 'id'));
      select hash into previous from audit_events order by id desc limit 1;
      new.prev_hash := coalesce(previous, repeat('0', 64));
      new.at := clock_timestamp();
      new.hash := encode(sha256(convert_to(new.prev_hash || audit_event_digest_input(new), 'UTF8')), 'hex');
      return new;
    end $$`.execute(db);
  await sql`
    create function audit_event_digest_input(e audit_events) returns text language sql immutable as $$
      select jsonb_build_object(
        'id', e.id, 'at', to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'type', e.type, 'actor', e.actor, 'subject', e.subject, 'client_id', e.client_id,
        'ip', e.ip, 'user_agent', e.user_agent, 'request_id', e.request_id, 'data', e.data)::text
    $$`.execute(db);
  await sql`create trigger audit_events_chain before insert on audit_events for each row execute function audit_events_chain()`.execute(db);
  // Defence in depth beside the missing grants: even the owner cannot rewrite history by accident.
  await sql`
    create function audit_events_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only' using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`create trigger audit_events_no_update before update or delete on audit_events for each row execute function audit_events_immutable()`.execute(db);
  await sql`create trigger audit_events_no_truncate before truncate on audit_events for each statement execute function audit_events_immutable()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_events', 'signing_keys', 'clients', 'oidc_records', 'users']) {
    await db.schema.dropTable(table).ifExists().cascade().execute();
  }
}
