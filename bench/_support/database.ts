// The bench database: a throwaway database on the real PostgreSQL server (DATABASE_URL, or the
// local default), dropped afterwards together with the tenant roles Facet created in it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  url: string;
  /** What the server reports, so the output can say which backend and durability were measured. */
  backend: { version: string; synchronousCommit: string; fsync: string };
  drop(): Promise<void>;
}

export async function createBenchDatabase(serverUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL): Promise<BenchDatabase> {
  const name = `facet_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  let backend: BenchDatabase['backend'];
  try {
    await admin.query(`create database ${name}`);
    const setting = async (sql: string) => String((await admin.query(sql)).rows[0]?.value);
    backend = {
      version: await setting(`select current_setting('server_version') as value`),
      synchronousCommit: await setting(`select current_setting('synchronous_commit') as value`),
      fsync: await setting(`select current_setting('fsync') as value`),
    };
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    backend,
    async drop() {
      const roles = await tenantRoles(url.toString());
      const cleaner = new pg.Client({ connectionString: serverUrl });
      await cleaner.connect();
      try {
        await cleaner.query(`drop database if exists ${name} with (force)`);
        for (const role of roles) await cleaner.query(`drop role if exists "${role}"`);
      } finally {
        await cleaner.end();
      }
    },
  };
}

/**
 * An existing bench database (BENCH_DATABASE_URL), kept afterwards: a long run (10,000 tenants)
 * can provision once and be measured again later. `drop()` leaves it in place.
 */
export async function existingBenchDatabase(url: string): Promise<BenchDatabase> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const setting = async (name: string) => String((await client.query('select current_setting($1) as value', [name])).rows[0]?.value);
    return {
      url,
      backend: { version: await setting('server_version'), synchronousCommit: await setting('synchronous_commit'), fsync: await setting('fsync') },
      async drop() {},
    };
  } finally {
    await client.end();
  }
}

async function tenantRoles(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const prefix = await client.query(`select role_prefix from facet_control.installation`).catch(() => ({ rows: [] as Array<{ role_prefix: string }> }));
    if (!prefix.rows[0]) return [];
    const rows = await client.query(`select rolname from pg_roles where rolname like $1`, [`facet_${prefix.rows[0].role_prefix}_%`]);
    return rows.rows.map((r) => r.rolname as string);
  } finally {
    await client.end().catch(() => {});
  }
}
