// /ready: the database answers and every schema is migrated; false while draining for shutdown.
import { sql, type Kysely } from 'kysely';
import { CONTROL_SCHEMA, pendingMigrations } from '../db/migrations.ts';
import { listTenants } from '../tenancy/registry.ts';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export type ExtraCheck = () => Promise<ReadinessCheck>;

/** Whether every schema is migrated. Walks all tenants, so /ready keeps the answer for a while. */
async function migrationsCheck(db: Kysely<any>): Promise<ReadinessCheck> {
  const pending = await pendingMigrations(db, 'control', CONTROL_SCHEMA);
  const tenantPending: string[] = [];
  for (const tenant of await listTenants(db)) {
    if ((await pendingMigrations(db, 'tenant', tenant.schema)).length > 0) tenantPending.push(tenant.slug);
  }
  const ok = pending.length === 0 && tenantPending.length === 0;
  return { name: 'migrations', ok, ...(ok ? {} : { detail: `pending: control ${pending.length}, tenants [${tenantPending.join(', ')}]` }) };
}

/**
 * Builds the /ready check. The database is pinged on every probe; the migration walk (a query per
 * tenant) is cached for `migrationsTtlMs`, since schemas change only at start or `facet migrate`.
 */
export function createReadiness({ db, extra = [], migrationsTtlMs = 30_000, now = Date.now }: { db: Kysely<any>; extra?: ExtraCheck[]; migrationsTtlMs?: number; now?: () => number }) {
  let cached: { check: ReadinessCheck; at: number } | undefined;
  return async ({ draining }: { draining: boolean }) => {
    const checks: ReadinessCheck[] = [];
    try {
      await sql`select 1`.execute(db);
      checks.push({ name: 'database', ok: true });
      if (!cached || !cached.check.ok || now() - cached.at > migrationsTtlMs) cached = { check: await migrationsCheck(db), at: now() };
      checks.push(cached.check);
    } catch (error) {
      checks.push({ name: 'database', ok: false, detail: (error as Error).message });
    }
    for (const check of extra) {
      try {
        checks.push(await check());
      } catch (error) {
        checks.push({ name: 'unknown', ok: false, detail: (error as Error).message });
      }
    }
    if (draining) checks.push({ name: 'draining', ok: false, detail: 'shutting down' });
    return { ready: checks.every((c) => c.ok), checks };
  };
}
