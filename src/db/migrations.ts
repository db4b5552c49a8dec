// Schema migrations with Kysely's Migrator: `migrations/control/` for the tenant registry, and
// `migrations/tenant/` applied to each tenant schema. Each run happens in one transaction, so a
// migration that fails in one tenant leaves that tenant exactly as it was.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql, type DatabaseIntrospector, type Kysely, type Transaction } from 'kysely';
import { Migrator, type Migration, type MigrationProvider, type MigrationResult } from 'kysely/migration';

const MIGRATIONS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
export const CONTROL_SCHEMA = 'facet_control';

class FolderMigrationProvider implements MigrationProvider {
  /** The first migration that threw, kept because later statements in the aborted transaction mask it. */
  failure: { name: string; error: Error } | undefined;
  #folders: string[];
  #schema: string;
  constructor(folders: string[], schema: string) {
    this.#folders = folders;
    this.#schema = schema;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    const files: Array<[string, string]> = [];
    for (const folder of this.#folders) {
      for (const file of await readdir(folder)) if (/^\d{4}_[\w-]+\.ts$/.test(file)) files.push([file, path.join(folder, file)]);
    }
    files.sort(([a], [b]) => a.localeCompare(b));
    const migrations: Record<string, Migration> = {};
    for (const [file, fullPath] of files) {
      const module = (await import(pathToFileURL(fullPath).href)) as Migration;
      const schema = this.#schema;
      // Migrations use unqualified names; the schema is chosen here, for the one transaction.
      const name = file.replace(/\.ts$/, '');
      migrations[name] = {
        up: async (db) => {
          await sql`select set_config('search_path', ${schema}, true)`.execute(db);
          try {
            await module.up(db);
          } catch (error) {
            this.failure ??= { name, error: error as Error };
            throw error;
          }
        },
        ...(module.down
          ? {
              down: async (db: Kysely<any>) => {
                await sql`select set_config('search_path', ${schema}, true)`.execute(db);
                await module.down!(db);
              },
            }
          : {}),
      };
    }
    return migrations;
  }
}

export interface MigrationReport {
  schema: string;
  applied: string[];
  error?: Error;
}

/**
 * The database as kysely's Migrator sees it, with table introspection limited to `schema`. The
 * Migrator checks for its two tables by listing every table of the database with its columns:
 * with thousands of tenant schemas that made each tenant's check cost O(all tenants), and
 * `facet migrate` and provisioning quadratic (docs/benchmarks.md, tenants).
 */
function scopedToSchema<D extends Kysely<any> | Transaction<any>>(db: D, schema: string): D {
  const introspection: DatabaseIntrospector = {
    getSchemas: () => db.introspection.getSchemas(),
    // The Migrator only asks whether its own two tables exist: answered by name through the
    // catalog's index (information_schema.tables scans every relation of the database).
    getTables: async () => {
      const { rows } = await sql<{ name: string }>`
        select name from unnest(array['kysely_migration', 'kysely_migration_lock']) as name
        where to_regclass(quote_ident(${schema}) || '.' || name) is not null`.execute(db);
      return rows.map((row) => ({ name: row.name, schema, isView: false, isForeign: false, columns: [] }));
    },
  };
  const executor = db.isTransaction ? schemaLockedExecutor(db, schema) : undefined;
  return new Proxy(db, {
    get(target, property) {
      if (property === 'introspection') return introspection;
      if (property === 'getExecutor' && executor) return () => executor;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * kysely's PostgreSQL migration lock is one session-level advisory lock for the whole database,
 * released when the Migrator returns, before the caller commits. Tenants' migrations queued behind
 * each other (two tenants provisioned at once ran their ~100 DDL statements one after the other),
 * while two processes migrating the same tenant at start could still overlap between the unlock
 * and the commit and fail on each other's tables. Inside a transaction (every tenant migration),
 * the lock is the schema's own and lasts until that transaction ends.
 */
function schemaLockedExecutor(trx: Kysely<any>, schema: string) {
  const executor = trx.getExecutor();
  const adapter = Object.assign(Object.create(executor.adapter) as typeof executor.adapter, {
    acquireMigrationLock: async (db: Kysely<any>) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`facet: migrate ${schema}`}))`.execute(db);
    },
    // Released by the commit or rollback of the caller's transaction.
    releaseMigrationLock: async () => {},
  });
  return new Proxy(executor, {
    get(target, property) {
      if (property === 'adapter') return adapter;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Whether `schema` has run exactly these migrations (names in order). */
async function upToDate(db: Kysely<any> | Transaction<any>, schema: string, names: string[]): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`select to_regclass(quote_ident(${schema}) || '.kysely_migration') is not null as present`.execute(db);
  if (!rows[0]?.present) return false;
  const done = (await sql<{ name: string }>`select name from ${sql.id(schema, 'kysely_migration')} order by name`.execute(db)).rows.map((row) => row.name);
  return done.length === names.length && done.every((name, i) => name === names[i]);
}

async function migrate(db: Kysely<any> | Transaction<any>, kind: 'control' | 'tenant', schema: string, extraFolders: string[] = []): Promise<MigrationReport> {
  const provider = new FolderMigrationProvider([path.join(MIGRATIONS_ROOT, kind), ...extraFolders], schema);
  // Up to date (the common case of `facet migrate` over many tenants): two reads, no Migrator.
  if (await upToDate(db, schema, Object.keys(await provider.getMigrations()))) return { schema, applied: [] };
  const migrator = new Migrator({ db: scopedToSchema(db, schema), provider, migrationTableSchema: schema });
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
  try {
    outcome = await migrator.migrateToLatest();
  } catch (error) {
    outcome = { error };
  }
  const { results, error } = outcome;
  const applied = (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName);
  if (!error) return { schema, applied };
  const failed = provider.failure?.name ?? (results ?? []).find((r: MigrationResult) => r.status === 'Error')?.migrationName ?? 'unknown';
  const cause = provider.failure?.error ?? (error instanceof Error ? error : new Error(String(error)));
  return { schema, applied: [], error: new Error(`migration ${failed} failed in ${schema}: ${cause.message}`, { cause }) };
}

export async function migrateControl(db: Kysely<any>): Promise<MigrationReport> {
  await sql`create schema if not exists ${sql.id(CONTROL_SCHEMA)}`.execute(db);
  return migrate(db, 'control', CONTROL_SCHEMA);
}

/** Migrates one tenant schema; pass a transaction to make it part of a larger unit (tenant creation). */
/** `extraFolders` adds migrations from elsewhere (tests use it to inject a failing one). */
export async function migrateTenantSchema(db: Kysely<any> | Transaction<any>, schema: string, extraFolders?: string[]): Promise<MigrationReport> {
  return migrate(db, 'tenant', schema, extraFolders);
}

/** Names of pending migrations for a schema (used by /ready). */
export async function pendingMigrations(db: Kysely<any>, kind: 'control' | 'tenant', schema: string): Promise<string[]> {
  const migrator = new Migrator({
    db: scopedToSchema(db, schema),
    provider: new FolderMigrationProvider([path.join(MIGRATIONS_ROOT, kind)], schema),
    migrationTableSchema: schema,
  });
  const all = await migrator.getMigrations();
  return all.filter((m) => !m.executedAt).map((m) => m.name);
}

/**
 * Runs one tenant migration's `up` again, in the caller's transaction and search path: for a
 * migration that did nothing because the server lacked a feature then (pgvector), once it has it.
 * Loaded by path like every migration, so src/ holds no import of migrations/.
 */
export async function rerunTenantMigration(db: Kysely<any>, name: string): Promise<void> {
  if (!/^\d{4}_[\w-]+$/.test(name)) throw new RangeError(`not a migration name: ${name}`);
  const module = (await import(pathToFileURL(path.join(MIGRATIONS_ROOT, 'tenant', `${name}.ts`)).href)) as Migration;
  await module.up(db);
}
