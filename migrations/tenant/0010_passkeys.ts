// Passkey sign-in: WebAuthn credentials, server-side challenges, the state of an interaction
// between "factor verified" and "login finished", recovery codes, invites and account-page sessions.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webauthn_credentials')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    // base64url, as the browser reports it; unique within this tenant's schema only.
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    // COSE public key, base64url (text keeps pg and PGlite byte handling out of the picture).
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('sign_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('aaguid', 'text')
    .addColumn('attestation_format', 'text')
    .addColumn('backup_eligible', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('backup_state', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('name', 'text', (c) => c.notNull())
    // The user's WebAuthn user handle at registration (users.webauthn_user_handle).
    .addColumn('user_handle', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('webauthn_credentials_user').on('webauthn_credentials').column('user_id').execute();

  // One outstanding challenge per binding (an interaction, an account-page visit) and purpose.
  // Consumed with DELETE … RETURNING, so two requests can never both use it.
  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('binding', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('authentication', 'registration')`))
    .addColumn('challenge', 'text', (c) => c.notNull())
    .addColumn('user_id', 'uuid')
    // Registration: the account to create once the passkey verifies (sign-up).
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('webauthn_challenges_pk', ['binding', 'purpose'])
    .execute();
  await db.schema.createIndex('webauthn_challenges_expiry').on('webauthn_challenges').column('expires_at').execute();

  // Where a flow stands between steps: sign-up details waiting for their passkey, a verified
  // factor whose login is not finished yet (recovery codes to show, a new passkey to add).
  await db.schema
    .createTable('pending_logins')
    .addColumn('binding', 'text', (c) => c.primaryKey())
    // Empty while signing up: the account exists only once its first passkey verifies.
    .addColumn('user_id', 'uuid')
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // Ten one-time codes per user; only SHA-256 of each (80-bit random codes) is kept.
  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('recovery_codes_user').on('recovery_codes').columns(['user_id', 'code_hash']).execute();

  await db.schema
    .createTable('invites')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('used_by', 'uuid')
    .execute();

  // Sessions of the account page itself (its own cookie, path /t/<slug>/account). Only a keyed
  // hash of the cookie value is stored.
  await db.schema
    .createTable('account_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('amr', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('account_sessions_user').on('account_sessions').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['account_sessions', 'invites', 'recovery_codes', 'pending_logins', 'webauthn_challenges', 'webauthn_credentials']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
