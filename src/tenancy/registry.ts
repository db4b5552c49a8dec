// The tenant registry in the control schema.
import { randomBytes } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { CONTROL_SCHEMA } from '../db/migrations.ts';
import type { TenantScope } from '../db/tenant-scope.ts';
import { controlDb, type RootDb } from '../db/client.ts';
import type { TenantsTable } from '../db/schema.ts';
import { storedTenantSettingsSchema, type StoredTenantSettings } from './tenant-file.ts';
import { notifyTenantChanged } from './change-feed.ts';

export interface TenantRecord extends TenantScope {
  name: string;
  status: 'active' | 'disabled';
  /** Parsed once, when the tenant is loaded (defaults filled in), and read typed everywhere. */
  settings: StoredTenantSettings;
  configVersion: number;
}

const tenants = `${CONTROL_SCHEMA}.tenants`;

/**
 * Settings as stored by `applyTenantFile`, which validated them against this same schema. Rows
 * written by an older version that no longer parse are served as stored until their tenant file
 * is applied again (at every start, from FACET_TENANTS_DIR).
 */
function settingsOf(stored: unknown): StoredTenantSettings {
  const parsed = storedTenantSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : (stored as StoredTenantSettings);
}

function toRecord(row: Selectable<TenantsTable>): TenantRecord {
  return {
    slug: row.slug,
    name: row.name,
    schema: row.schema_name,
    role: row.role_name,
    // The column's check constraint allows exactly these two (migrations/control/0001_registry.ts).
    status: row.status as TenantRecord['status'],
    settings: settingsOf(row.settings),
    configVersion: row.config_version,
  };
}

/** This installation's role prefix, created on first use. */
export async function installationPrefix(db: RootDb): Promise<string> {
  const candidate = randomBytes(4).toString('hex');
  await sql`insert into ${sql.table(`${CONTROL_SCHEMA}.installation`)} (id, role_prefix) values (1, ${candidate}) on conflict (id) do nothing`.execute(db);
  const row = await db.selectFrom(`${CONTROL_SCHEMA}.installation`).select('role_prefix').executeTakeFirstOrThrow();
  return row.role_prefix as string;
}

export async function findTenant(db: RootDb, slug: string): Promise<TenantRecord | undefined> {
  const row = await controlDb(db).selectFrom('facet_control.tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

export async function listTenants(db: RootDb): Promise<TenantRecord[]> {
  const rows = await controlDb(db).selectFrom('facet_control.tenants').selectAll().orderBy('slug').execute();
  return rows.map(toRecord);
}

/** Cheap check used by the provider pool to notice changes made by other processes. */
export async function tenantVersion(db: RootDb, slug: string): Promise<{ status: string; configVersion: number } | undefined> {
  const row = await db.selectFrom(tenants).select(['status', 'config_version']).where('slug', '=', slug).executeTakeFirst();
  return row ? { status: row.status as string, configVersion: row.config_version as number } : undefined;
}

export async function bumpConfigVersion(db: RootDb, slug: string): Promise<void> {
  await db
    .updateTable(tenants)
    .set({ config_version: sql`config_version + 1`, updated_at: sql`now()` })
    .where('slug', '=', slug)
    .execute();
  await notifyTenantChanged(db, slug);
}

/**
 * Stores a tenant's settings (and, when given, its display name) as the console changed them, and
 * tells every node (config version, change feed). The caller has validated the settings.
 */
export async function saveTenantSettings(db: RootDb, slug: string, { name, settings }: { name?: string; settings: Record<string, unknown> }): Promise<void> {
  await db
    .updateTable(tenants)
    .set({ ...(name === undefined ? {} : { name }), settings: JSON.stringify(settings), config_version: sql`config_version + 1`, updated_at: sql`now()` })
    .where('slug', '=', slug)
    .execute();
  await notifyTenantChanged(db, slug);
}

export async function setTenantStatus(db: RootDb, slug: string, status: 'active' | 'disabled'): Promise<boolean> {
  const result = await db
    .updateTable(tenants)
    .set({ status, config_version: sql`config_version + 1`, updated_at: sql`now()` })
    .where('slug', '=', slug)
    .executeTakeFirst();
  await notifyTenantChanged(db, slug);
  return Number(result.numUpdatedRows) > 0;
}
