// The tenant provider pool: lazy, bounded, rebuilds on version change, never closes a value that
// is still serving a request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTenantPool } from '../../src/tenancy/pool.ts';

function harness(max = 2) {
  const versions = new Map<string, number | undefined>([['a', 1], ['b', 1], ['c', 1]]);
  const built: string[] = [];
  const closed: string[] = [];
  let clock = 0;
  const pool = createTenantPool<{ name: string }>({
    max,
    recheckMs: 1000,
    now: () => clock,
    version: async (slug) => versions.get(slug),
    build: async (slug) => {
      built.push(`${slug}@${versions.get(slug)}`);
      return { name: `${slug}@${versions.get(slug)}` };
    },
    close: (value) => closed.push(value.name),
  });
  return { pool, versions, built, closed, tick: (ms: number) => (clock += ms) };
}

test('builds lazily and reuses while warm', async () => {
  const { pool, built } = harness();
  await pool.use('a', async (v) => v);
  await pool.use('a', async (v) => v);
  assert.deepEqual(built, ['a@1']);
});

test('unknown or disabled tenants resolve to undefined', async () => {
  const { pool, versions } = harness();
  assert.equal(await pool.use('zzz', async () => 'served'), undefined);
  await pool.use('a', async () => 'ok');
  versions.set('a', undefined);
  const h = harness();
  h.versions.set('a', undefined);
  assert.equal(await h.pool.use('a', async () => 'served'), undefined);
});

test('rebuilds when the version changes, after the recheck interval', async () => {
  const { pool, versions, built, tick } = harness();
  await pool.use('a', async (v) => v);
  versions.set('a', 2);
  assert.equal((await pool.use('a', async (v) => v))!.name, 'a@1', 'still trusted within the interval');
  tick(1500);
  assert.equal((await pool.use('a', async (v) => v))!.name, 'a@2');
  assert.deepEqual(built, ['a@1', 'a@2']);
});

test('evicting an entry with a request in flight closes it only when the request ends', async () => {
  const { pool, closed } = harness(1);
  let release!: () => void;
  const slow = pool.use('a', () => new Promise<string>((resolve) => (release = () => resolve('done'))));
  await new Promise((r) => setImmediate(r));
  await pool.use('b', async (v) => v); // evicts 'a' while its request runs
  assert.deepEqual(closed, [], 'not closed under a running request');
  release();
  assert.equal(await slow, 'done');
  assert.deepEqual(closed, ['a@1']);
  assert.equal(pool.size, 1);
});

test('concurrent first requests share one build', async () => {
  const { pool, built } = harness();
  await Promise.all(Array.from({ length: 10 }, () => pool.use('c', async (v) => v)));
  assert.deepEqual(built, ['c@1']);
});

test('expire (another process changed the tenant) re-checks at once, and rebuilds only if the version moved', async () => {
  const { pool, versions, built } = harness();
  await pool.use('a', async (v) => v);
  await pool.use('b', async (v) => v);
  pool.expire('a');
  assert.equal((await pool.use('a', async (v) => v))?.name, 'a@1', 'same version: the warm value stays');
  versions.set('a', 2);
  assert.equal((await pool.use('a', async (v) => v))?.name, 'a@1', 'inside the recheck interval nothing is read');
  pool.expire('a');
  assert.equal((await pool.use('a', async (v) => v))?.name, 'a@2');
  versions.set('b', 2);
  pool.expire();
  assert.equal((await pool.use('b', async (v) => v))?.name, 'b@2', 'expire() without a slug re-checks every tenant');
  assert.deepEqual(built, ['a@1', 'b@1', 'a@2', 'b@2']);
});

test('a miss reads the tenant once through find and hands the record to build; a version change later asks version', async () => {
  const calls: string[] = [];
  const records = new Map([['a', { version: 1, record: { row: 'a-row' } }]]);
  let clock = 0;
  const pool = createTenantPool<{ name: string; from?: string }, { row: string }>({
    max: 2,
    recheckMs: 1000,
    now: () => clock,
    version: async (slug) => {
      calls.push(`version ${slug}`);
      return records.get(slug)?.version;
    },
    find: async (slug) => {
      calls.push(`find ${slug}`);
      return records.get(slug);
    },
    build: async (slug, record) => {
      calls.push(`build ${slug} ${record?.row ?? '-'}`);
      return { name: slug, ...(record ? { from: record.row } : {}) };
    },
  });
  assert.equal((await pool.use('a', async (v) => v))!.from, 'a-row');
  assert.deepEqual(calls, ['find a', 'build a a-row'], 'one registry read on a miss');
  assert.equal(await pool.use('nobody', async () => 'served'), undefined);
  assert.deepEqual(calls.slice(2), ['find nobody']);
  records.set('a', { version: 2, record: { row: 'a-row-2' } });
  clock += 1500;
  await pool.use('a', async (v) => v);
  assert.deepEqual(calls.slice(3), ['version a', 'build a -'], 'a warm tenant is rechecked by version and rebuilt');
});
