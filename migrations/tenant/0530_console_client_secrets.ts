// Applications made in the console (issue 12) hold their client secret themselves: sealed under the
// installation's key-encryption key (AES-256-GCM, bound to tenant and client id), because
// oidc-provider needs the secret itself to check client_secret_basic/post. Clients from a tenant
// file keep naming an environment variable (secret_env) instead; a client has one or the other.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('secret_sealed', 'text').execute();
  await db.schema
    .alterTable('clients')
    .addCheckConstraint('clients_one_secret_source', sql`secret_sealed is null or secret_env is null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('clients').dropConstraint('clients_one_secret_source').execute();
  await db.schema.alterTable('clients').dropColumn('secret_sealed').execute();
}
