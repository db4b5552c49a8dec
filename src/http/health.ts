// /ready: the database answers and every schema is migrated; false while draining for shutdown.
// Anyone may ask; internal detail (error messages that name hosts and ports, tenant lists) is only
// shown to a caller presenting METRICS_TOKEN.
import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { CONTROL_SCHEMA, pendingMigrations } from '../db/migrations.ts';
import { listTenants } from '../tenancy/registry.ts';
import type { RootDb } from '../db/client.ts';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  /** Safe for anyone to read. */
  detail?: string;
  /** For operators only (METRICS_TOKEN): error messages, addresses, tenant names. */
  internal?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessCheck[];
}

/** The report without `internal` fields, for unauthenticated callers. */
export function publicReadiness(report: ReadinessReport): ReadinessReport {
  return { ready: report.ready, checks: report.checks.map(({ internal: _internal, ...check }) => check) };
}

/** Whether the request carries `Authorization: Bearer <token>` (constant-time); false without a token configured. */
export function presentsToken(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return false;
  const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

export type ExtraCheck = () => Promise<ReadinessCheck>;

/** Whether every schema is migrated. Walks all tenants, so /ready keeps the answer for a while. */
async function migrationsCheck(db: RootDb): Promise<ReadinessCheck> {
  const pending = await pendingMigrations(db, 'control', CONTROL_SCHEMA);
  const tenantPending: string[] = [];
  for (const tenant of await listTenants(db)) {
    if ((await pendingMigrations(db, 'tenant', tenant.schema)).length > 0) tenantPending.push(tenant.slug);
  }
  const ok = pending.length === 0 && tenantPending.length === 0;
  return { name: 'migrations', ok, ...(ok ? {} : { detail: `pending: control ${pending.length}, tenants ${tenantPending.length}`, internal: `tenants [${tenantPending.join(', ')}]` }) };
}

/**
 * Builds the /ready check. The database is pinged on every probe; the migration walk (a query per
 * tenant) is cached for `migrationsTtlMs`, since schemas change only at start or `facet migrate`.
 */
export function createReadiness({
  db,
  extra = [],
  migrationsTtlMs = 30_000,
  timeoutMs = 1000,
  now = Date.now,
}: {
  db: RootDb;
  extra?: ExtraCheck[];
  migrationsTtlMs?: number;
  /** The whole database check answers within this, reachable or not (a probe must not hang). */
  timeoutMs?: number;
  now?: () => number;
}) {
  let cached: { check: ReadinessCheck; at: number } | undefined;
  const databaseChecks = async (): Promise<ReadinessCheck[]> => {
    await sql`select 1`.execute(db);
    if (!cached || !cached.check.ok || now() - cached.at > migrationsTtlMs) cached = { check: await migrationsCheck(db), at: now() };
    return [{ name: 'database', ok: true }, cached.check];
  };
  return async ({ draining }: { draining: boolean }): Promise<ReadinessReport> => {
    if (draining) return { ready: false, checks: [{ name: 'draining', ok: false, detail: 'shutting down' }] };
    const checks: ReadinessCheck[] = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      checks.push(...(await Promise.race([databaseChecks(), timeout])));
    } catch (error) {
      checks.push({ name: 'database', ok: false, internal: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
    for (const check of extra) {
      try {
        checks.push(await check());
      } catch (error) {
        checks.push({ name: 'unknown', ok: false, internal: (error as Error).message });
      }
    }
    return { ready: checks.every((c) => c.ok), checks };
  };
}
