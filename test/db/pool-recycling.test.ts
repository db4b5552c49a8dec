// The server's PostgreSQL pool replaces its connections (src/db/client.ts DEFAULT_POOL_RECYCLING):
// a backend's catalog caches grow with every tenant schema it touches. Seen from the server side,
// by pg_backend_pid(): a new pid is a new connection.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database, type DatabaseOptions } from '../../src/db/client.ts';
import { openConfiguredDatabase } from '../../src/boot.ts';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

/** The backend pid serving each of `count` sequential queries. */
async function pids(database: Database, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db);
    seen.push(rows[0]!.pid);
  }
  return seen;
}

/** How many queries in a row each backend served, in order: [3, 3, 1]. */
function runs(seen: number[]): number[] {
  const lengths: number[] = [];
  seen.forEach((pid, i) => {
    if (i > 0 && pid === seen[i - 1]) lengths[lengths.length - 1]!++;
    else lengths.push(1);
  });
  return lengths;
}

describe('pool recycling on real PostgreSQL', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL' }, () => {
  // Only pg_backend_pid() is asked: no database of its own needed.
  const url = process.env.DATABASE_URL!;
  const opened: Database[] = [];
  const open = async (options: Omit<Extract<DatabaseOptions, { kind: 'postgres' }>, 'kind' | 'url'>) => {
    const database = await openDatabase({ kind: 'postgres', url, poolSize: 1, ...options });
    opened.push(database);
    return database;
  };
  after(async () => {
    await Promise.all(opened.map((database) => database.close()));
  });

  test('maxUses 3: seven queries on one connection are served by three backends in turn', async () => {
    assert.deepEqual(runs(await pids(await open({ maxUses: 3, maxLifetimeSeconds: 0 }), 7)), [3, 3, 1]);
  });

  test('both limits off: one backend serves all seven', async () => {
    const seen = await pids(await open({ maxUses: 0, maxLifetimeSeconds: 0 }), 7);
    assert.equal(new Set(seen).size, 1, `pids ${seen.join(', ')}`);
  });

  test('maxLifetimeSeconds 1: an idle connection older than that is replaced', async () => {
    const database = await open({ maxUses: 0, maxLifetimeSeconds: 1 });
    const [first] = await pids(database, 1);
    assert.deepEqual(await pids(database, 1), [first], 'still the same connection within its lifetime');
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const [later] = await pids(database, 1);
    assert.notEqual(later, first);
  });

  test('the server path (loadConfig, openConfiguredDatabase) gets the default: replaced after 7500 checkouts', async () => {
    const database = await openConfiguredDatabase(loadConfig({ DATABASE_URL: url, FACET_DB_POOL_SIZE: '1' }));
    opened.push(database);
    assert.deepEqual(runs(await pids(database, 7501)), [7500, 1]);
  });

  test('FACET_DB_MAX_USES reaches the pool', async () => {
    const database = await openConfiguredDatabase(loadConfig({ DATABASE_URL: url, FACET_DB_POOL_SIZE: '1', FACET_DB_MAX_USES: '2' }));
    opened.push(database);
    assert.deepEqual(runs(await pids(database, 5)), [2, 2, 1]);
  });
});

describe('pool recycling settings', () => {
  test('are read as whole numbers, 0 meaning never', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://db/facet', FACET_DB_MAX_USES: '0', FACET_DB_MAX_LIFETIME_SECONDS: '600' });
    assert.equal(config.database.kind, 'postgres');
    assert.deepEqual(config.database, { kind: 'postgres', url: 'postgres://db/facet', maxUses: 0, maxLifetimeSeconds: 600 });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://db/facet' }).database, { kind: 'postgres', url: 'postgres://db/facet' });
  });

  for (const [name, value] of [
    ['FACET_DB_MAX_USES', ''],
    ['FACET_DB_MAX_USES', ' '],
    ['FACET_DB_MAX_USES', '-1'],
    ['FACET_DB_MAX_USES', '2.5'],
    ['FACET_DB_MAX_USES', 'lots'],
    ['FACET_DB_MAX_USES', '1e3'],
    ['FACET_DB_MAX_USES', '99999999999'],
    ['FACET_DB_MAX_LIFETIME_SECONDS', ''],
    ['FACET_DB_MAX_LIFETIME_SECONDS', '30m'],
    ['FACET_DB_MAX_LIFETIME_SECONDS', '-5'],
    // Node would fire a timer this long at once (over 2^31 - 1 ms) and replace every connection.
    ['FACET_DB_MAX_LIFETIME_SECONDS', '2147484'],
  ] as const) {
    test(`${name}=${JSON.stringify(value)} is refused at load`, () => {
      assert.throws(
        () => loadConfig({ DATABASE_URL: 'postgres://db/facet', [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.includes(name),
      );
    });
  }
});
