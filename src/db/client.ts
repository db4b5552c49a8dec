// The one place that opens a database: a real PostgreSQL server through `pg`, or embedded PGlite
// (with pgvector) when no DATABASE_URL is given.
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createPGlitePool } from './pglite-pool.ts';
import type { ControlSchema } from './schema.ts';
import { registerPool } from './pipelined-tenant.ts';

/**
 * The whole pool, before a tenant is chosen: handed to withTenant (which gives a typed tenant
 * transaction), to the control-schema registry and to health checks. Queries on tenant tables go
 * through TenantDb / TenantKysely (src/db/tenant-scope.ts), typed by src/db/schema.ts.
 */
export type RootDb = Kysely<any>;

/** The control schema's tables by their qualified names ('facet_control.tenants'), typed by src/db/schema.ts. */
export type ControlDb = Kysely<{ [K in keyof ControlSchema as `facet_control.${K}`]: ControlSchema[K] }>;

/** The root handle seen through the control schema's types (the registry's queries). */
export const controlDb = (db: RootDb): ControlDb => db as unknown as ControlDb;

export interface Database {
  kind: 'postgres' | 'pglite';
  db: Kysely<any>;
  /**
   * Embedded PGlite only: hears NOTIFY on `channel` in this process (PGlite is one process, so
   * there is no other connection to LISTEN on). PostgreSQL uses a dedicated connection instead
   * (src/tenancy/change-feed.ts).
   */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | {
      kind: 'postgres';
      url: string;
      poolSize?: number;
      /** Checkouts after which a connection is replaced; 0: never. Unset: DEFAULT_POOL_RECYCLING. */
      maxUses?: number;
      /** Seconds after which a connection is replaced (when next idle); 0: never. Unset: DEFAULT_POOL_RECYCLING. */
      maxLifetimeSeconds?: number;
    }
  | { kind: 'pglite'; dataDir: string };

/**
 * Every pool's connections are replaced now and then. A PostgreSQL backend keeps every relation it
 * has touched in its catalog caches and scans them on each invalidation that DDL elsewhere sends;
 * with thousands of tenant schemas served through the same connections those caches only grow
 * (perf on a 10,000-tenant run: ~70 % of a provisioning backend's time in LocalExecuteInvalidationMessage). A
 * new connection costs a few milliseconds and a cache warm-up, so: after 7,500 checkouts (pg-pool's
 * suggested value; a busy connection lives minutes), or 30 minutes for a quiet one.
 */
export const DEFAULT_POOL_RECYCLING = { maxUses: 7500, maxLifetimeSeconds: 1800 } as const;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.kind === 'postgres') {
    // A connection attempt that hangs (a partitioned network) fails after 3 s instead of queueing
    // requests forever; a refused one fails at once. Either way the request gets a 503.
    // pg-pool reads 0 as "never" for both.
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 3000,
      maxUses: options.maxUses ?? DEFAULT_POOL_RECYCLING.maxUses,
      maxLifetimeSeconds: options.maxLifetimeSeconds ?? DEFAULT_POOL_RECYCLING.maxLifetimeSeconds,
    });
    // A client losing its server (restart, failover: 57P01) must not take the process down. pg-pool
    // listens for that only while a client is idle; a checked-out client (a request inside a
    // transaction) emits 'error' with no listener, which ends the process. The query in flight
    // fails on its own, and pg-pool drops the broken client when it is released.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    registerPool(db, pool as any);
    return { kind: 'postgres', db, close: () => db.destroy() };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const memory = options.dataDir.startsWith('memory://');
  if (!memory) mkdirSync(options.dataDir, { recursive: true });
  const lite = await PGlite.create(memory ? undefined : options.dataDir, { extensions: { vector } });
  const pool = createPGlitePool(lite);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: pool as any }) });
  registerPool(db, pool as any);
  return { kind: 'pglite', db, listen: (channel, onNotify) => pool.listen(channel, onNotify), close: () => db.destroy() };
}
