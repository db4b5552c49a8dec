// Creating a tenant is one transaction: registry row, role, schema, grants, migrations, signing
// keys and the first audit event. It fully succeeds or leaves nothing behind (roles are
// transactional in PostgreSQL too).
import { sql, type Transaction } from 'kysely';
import { FacetError } from '../errors/facet-error.ts';
import { CONTROL_SCHEMA, migrateTenantSchema, type MigrationReport } from '../db/migrations.ts';
import { enterTenant, type TenantScope } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { createInitialKeys } from '../keys/signing-keys.ts';
import { findTenant, installationPrefix, type TenantRecord } from './registry.ts';
import { assertValidSlug, ident, roleForSlug, schemaForSlug } from './names.ts';
import type { RootDb } from '../db/client.ts';

export class TenantExistsError extends FacetError {
  override name = 'TenantExistsError';
  readonly code = 'tenant_exists';
}

export interface CreateTenantInput {
  slug: string;
  name?: string;
  settings?: Record<string, unknown>;
}

export async function createTenant(
  db: RootDb,
  input: CreateTenantInput,
  { kek, actor = 'system' }: { kek: string; actor?: string },
): Promise<TenantRecord> {
  assertValidSlug(input.slug);
  if (await findTenant(db, input.slug)) throw new TenantExistsError(`tenant ${input.slug} already exists`);
  const prefix = await installationPrefix(db);
  const scope: TenantScope = { slug: input.slug, schema: schemaForSlug(input.slug), role: roleForSlug(prefix, input.slug) };

  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto(`${CONTROL_SCHEMA}.tenants`)
      .values({
        slug: scope.slug,
        name: input.name ?? scope.slug,
        schema_name: scope.schema,
        role_name: scope.role,
        settings: JSON.stringify(input.settings ?? {}),
      })
      .execute();
    await sql.raw(`create role ${ident(scope.role)} nologin noinherit`).execute(trx);
    await grantRoleToSelf(trx, scope.role);
    await sql.raw(`create schema ${ident(scope.schema)}`).execute(trx);
    await sql.raw(`grant usage on schema ${ident(scope.schema)} to ${ident(scope.role)}`).execute(trx);
    // Tables created later by migrations get the tenant's grants automatically.
    await sql.raw(`alter default privileges in schema ${ident(scope.schema)} grant select, insert, update, delete on tables to ${ident(scope.role)}`).execute(trx);
    await sql.raw(`alter default privileges in schema ${ident(scope.schema)} grant usage, select on sequences to ${ident(scope.role)}`).execute(trx);

    const report = await migrateTenantSchema(trx, scope.schema);
    if (report.error) throw report.error;
    await restrictTenantGrants(trx, scope);

    await enterTenant(trx, scope);
    await createInitialKeys(trx, { kek, slug: scope.slug });
    await appendAudit(trx, { type: 'tenant.created', actor, data: { slug: scope.slug, name: input.name ?? scope.slug } });
  });
  return (await findTenant(db, scope.slug))!;
}

/** Lets the connecting user SET ROLE to the tenant role when it is not a superuser. */
async function grantRoleToSelf(trx: Transaction<any>, role: string): Promise<void> {
  const { rows } = await sql<{ rolsuper: boolean }>`select rolsuper from pg_roles where rolname = current_user`.execute(trx);
  if (!rows[0]?.rolsuper) await sql.raw(`grant ${ident(role)} to current_user`).execute(trx);
}

/** The grants that default privileges must not give: the audit trail is append-only. */
export async function restrictTenantGrants(trx: Transaction<any> | RootDb, scope: TenantScope): Promise<void> {
  const role = ident(scope.role);
  const schema = ident(scope.schema);
  await sql.raw(`revoke update, delete, truncate on ${schema}.audit_events from ${role}`).execute(trx);
  await sql.raw(`revoke all on ${schema}.kysely_migration, ${schema}.kysely_migration_lock from ${role}`).execute(trx);
}

/** Brings one existing tenant schema up to date, in one transaction. */
export async function migrateTenant(db: RootDb, scope: TenantScope, { extraFolders }: { extraFolders?: string[] } = {}): Promise<MigrationReport> {
  try {
    return await db.transaction().execute(async (trx) => {
      const report = await migrateTenantSchema(trx, scope.schema, extraFolders);
      if (report.error) throw report.error;
      // New tables get the default grants: take back what the audit trail must not allow.
      if (report.applied.length > 0) await restrictTenantGrants(trx, scope);
      return report;
    });
  } catch (error) {
    return { schema: scope.schema, applied: [], error: error as Error };
  }
}

/** Removes a tenant entirely (tests and explicit offboarding): schema, role and registry row. */
export async function dropTenant(db: RootDb, slug: string): Promise<void> {
  const tenant = await findTenant(db, slug);
  if (!tenant) return;
  await db.transaction().execute(async (trx) => {
    await sql.raw(`drop schema if exists ${ident(tenant.schema)} cascade`).execute(trx);
    await sql.raw(`drop owned by ${ident(tenant.role)}`).execute(trx);
    await sql.raw(`drop role if exists ${ident(tenant.role)}`).execute(trx);
    await trx.deleteFrom(`${CONTROL_SCHEMA}.tenants`).where('slug', '=', slug).execute();
  });
}
