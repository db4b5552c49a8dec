// Shared start-up for the server and the CLI: open the database, migrate, apply tenant files.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config/index.ts';
import { openDatabase, type Database } from './db/client.ts';
import { migrateControl } from './db/migrations.ts';
import { listTenants } from './tenancy/registry.ts';
import { migrateTenant } from './tenancy/provision.ts';
import { applyTenantFile, type ApplyReport } from './tenancy/apply.ts';
import { readTenantFile } from './tenancy/tenant-file.ts';

export function createBaseLogger(config: Config): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.client_secret', '*.password', '*.token'], censor: '[redacted]' },
  });
}

export async function openConfiguredDatabase(config: Config): Promise<Database> {
  return openDatabase(config.database);
}

export interface MigrateAllReport {
  control: string[];
  tenants: Array<{ slug: string; applied: string[]; error?: string }>;
}

/** Brings the control schema and every tenant schema up to date; one tenant failing does not stop the rest. */
export async function migrateAll(database: Database): Promise<MigrateAllReport> {
  const control = await migrateControl(database.db);
  if (control.error) throw control.error;
  const tenants: MigrateAllReport['tenants'] = [];
  for (const tenant of await listTenants(database.db)) {
    const report = await migrateTenant(database.db, tenant);
    tenants.push({ slug: tenant.slug, applied: report.applied, ...(report.error ? { error: report.error.message } : {}) });
  }
  return { control: control.applied, tenants };
}

export async function applyTenantDirectory(database: Database, config: Config, dir = config.tenantsDir): Promise<ApplyReport[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    return [];
  }
  const reports: ApplyReport[] = [];
  for (const file of files) {
    const parsed = await readTenantFile(path.join(dir, file));
    reports.push(await applyTenantFile(database.db, parsed, { kek: config.kek, production: config.production }));
  }
  return reports;
}
