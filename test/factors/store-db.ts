// A throwaway schema on the real PostgreSQL server (DATABASE_URL, default local postgres) holding a
// minimal users table and the given tenant migrations, for the factor stores' tests.
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations/tenant');
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface StoreDb {
  db: Kysely<any>;
  schema: string;
  addUser(): Promise<string>;
  close(): Promise<void>;
}

export async function createStoreDb(migrations: string[]): Promise<StoreDb> {
  const schema = `facet_factor_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: databaseUrl, options: `-c search_path=${schema}`, max: 4 });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  await db.schema.createTable('users').addColumn('id', 'uuid', (c) => c.primaryKey()).execute();
  for (const file of migrations) {
    const module = (await import(pathToFileURL(path.join(migrationsDir, file)).href)) as { up(db: Kysely<any>): Promise<void> };
    await module.up(db);
  }
  return {
    db,
    schema,
    async addUser() {
      const id = randomUUID();
      await db.insertInto('users').values({ id }).execute();
      return id;
    },
    async close() {
      await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
      await db.destroy();
    },
  };
}

/** A stand-in for the real encrypt/decrypt pair: reversible, visibly not plaintext. */
export const testBox = {
  encrypt: (plaintext: string) => `box:${Buffer.from(plaintext).toString('base64url')}`,
  decrypt: (token: string) => {
    if (!token.startsWith('box:')) throw new Error('not sealed');
    return Buffer.from(token.slice(4), 'base64url').toString();
  },
};
