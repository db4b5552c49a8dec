// The hosted console (issue 12): per-tenant admin roles held by ordinary users, the console's
// server-side sessions (a backend-for-frontend: the browser holds only an opaque cookie), and
// invitations that carry a role.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('admin_roles')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'helpdesk', 'auditor')`))
    // Where the grant came from: the tenant file (which keeps it in step), the CLI, the console, an invite.
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('file', 'cli', 'console', 'invite')`))
    .addColumn('granted_by', 'text')
    .addColumn('granted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('admin_roles_pk', ['user_id', 'role'])
    .execute();

  await db.schema
    .createTable('console_sessions')
    // Keyed hash of the cookie value: a copy of the database holds no usable session.
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('acr', 'text', (c) => c.notNull())
    .addColumn('amr', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('auth_time', 'timestamptz', (c) => c.notNull())
    .addColumn('csrf', 'text', (c) => c.notNull())
    .addColumn('id_token', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('console_sessions_user').on('console_sessions').column('user_id').execute();

  await db.schema
    .alterTable('invites')
    .addColumn('role', 'text', (c) => c.check(sql`role in ('admin', 'helpdesk', 'auditor')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('invites').dropColumn('role').execute();
  await db.schema.dropTable('console_sessions').execute();
  await db.schema.dropTable('admin_roles').execute();
}
