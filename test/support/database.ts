// Test databases: a fresh PostgreSQL database per test file on the real server named by
// DATABASE_URL (CI), or a fresh in-memory PGlite when it is unset. Dropped afterwards together
// with the tenant roles the run created.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** Environment for loadConfig: DATABASE_URL for postgres, FACET_DATA_DIR for PGlite. */
  env: Record<string, string>;
  url?: string;
  drop(): Promise<void>;
}

export const realPostgresUrl = process.env.DATABASE_URL;

export async function createTestDatabase(kind: 'postgres' | 'pglite' = realPostgresUrl ? 'postgres' : 'pglite'): Promise<TestDatabase> {
  if (kind === 'pglite') return { kind, env: { FACET_DATA_DIR: 'memory://' }, drop: async () => {} };
  if (!realPostgresUrl) throw new Error('DATABASE_URL is not set: no real PostgreSQL for this test');
  const name = `facet_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: realPostgresUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(realPostgresUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    env: { DATABASE_URL: url.toString() },
    async drop() {
      const client = new pg.Client({ connectionString: url.toString() });
      let roles: string[] = [];
      try {
        await client.connect();
        const prefix = await client.query(`select role_prefix from facet_control.installation`).catch(() => ({ rows: [] as any[] }));
        if (prefix.rows[0]) {
          roles = (await client.query(`select rolname from pg_roles where rolname like $1`, [`facet_${prefix.rows[0].role_prefix}_%`])).rows.map((r) => r.rolname);
        }
      } finally {
        await client.end().catch(() => {});
      }
      const adminClient = new pg.Client({ connectionString: realPostgresUrl });
      await adminClient.connect();
      try {
        await adminClient.query(`drop database if exists ${name} with (force)`);
        for (const role of roles) await adminClient.query(`drop role if exists "${role}"`);
      } finally {
        await adminClient.end();
      }
    },
  };
}
