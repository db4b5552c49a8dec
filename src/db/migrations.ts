// Schema migrations with Kysely's Migrator: `migrations/control/` for the tenant registry, and
// `migrations/tenant/` applied to each tenant schema. Each run happens in one transaction, so a
// migration that fails in one tenant leaves that tenant exactly as it was.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql, type Kysely, type Transaction } from 'kysely';
import { Migrator, type Migration, type MigrationProvider, type MigrationResult } from 'kysely/migration';

const MIGRATIONS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
export const CONTROL_SCHEMA = 'facet_control';

class FolderMigrationProvider implements MigrationProvider {
  #folder: string;
  #schema: string;
  constructor(folder: string, schema: string) {
    this.#folder = folder;
    this.#schema = schema;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.#folder)).filter((file) => /^\d{4}_[\w-]+\.ts$/.test(file)).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const module = (await import(pathToFileURL(path.join(this.#folder, file)).href)) as Migration;
      const schema = this.#schema;
      // Migrations use unqualified names; the schema is chosen here, for the one transaction.
      migrations[file.replace(/\.ts$/, '')] = {
        up: async (db) => {
          await sql`select set_config('search_path', ${schema}, true)`.execute(db);
          await module.up(db);
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

async function migrate(db: Kysely<any> | Transaction<any>, kind: 'control' | 'tenant', schema: string): Promise<MigrationReport> {
  const migrator = new Migrator({
    db,
    provider: new FolderMigrationProvider(path.join(MIGRATIONS_ROOT, kind), schema),
    migrationTableSchema: schema,
  });
  const { results, error } = await migrator.migrateToLatest();
  const applied = (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName);
  return error ? { schema, applied: [], error: error instanceof Error ? error : new Error(String(error)) } : { schema, applied };
}

export async function migrateControl(db: Kysely<any>): Promise<MigrationReport> {
  await sql`create schema if not exists ${sql.id(CONTROL_SCHEMA)}`.execute(db);
  return migrate(db, 'control', CONTROL_SCHEMA);
}

/** Migrates one tenant schema; pass a transaction to make it part of a larger unit (tenant creation). */
export async function migrateTenantSchema(db: Kysely<any> | Transaction<any>, schema: string): Promise<MigrationReport> {
  return migrate(db, 'tenant', schema);
}

/** Names of pending migrations for a schema (used by /ready). */
export async function pendingMigrations(db: Kysely<any>, kind: 'control' | 'tenant', schema: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new FolderMigrationProvider(path.join(MIGRATIONS_ROOT, kind), schema),
    migrationTableSchema: schema,
  });
  const all = await migrator.getMigrations();
  return all.filter((m) => !m.executedAt).map((m) => m.name);
}
