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

export async function readiness({ db, draining, extra = [] }: { db: Kysely<any>; draining: boolean; extra?: ExtraCheck[] }) {
  const checks: ReadinessCheck[] = [];
  try {
    await sql`select 1`.execute(db);
    checks.push({ name: 'database', ok: true });
    const pending = await pendingMigrations(db, 'control', CONTROL_SCHEMA);
    const tenantPending: string[] = [];
    for (const tenant of await listTenants(db)) {
      if ((await pendingMigrations(db, 'tenant', tenant.schema)).length > 0) tenantPending.push(tenant.slug);
    }
    const ok = pending.length === 0 && tenantPending.length === 0;
    checks.push({ name: 'migrations', ok, ...(ok ? {} : { detail: `pending: control ${pending.length}, tenants [${tenantPending.join(', ')}]` }) });
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
}
