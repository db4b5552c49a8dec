// Child process: Facet on the database named by DATABASE_URL, demo tenant applied, test helpers
// mounted (for the code flows that create refresh families), logging silent. Counts the SQL
// statements and commits it sends so the parent can report database round-trips per request.
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.ts';
import { startFacet } from '../../src/server.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { serveParent } from './children.ts';

// statements: every query sent (one round trip each); commits: explicit COMMITs; autocommits:
// statements sent outside BEGIN … COMMIT, each its own transaction (refresh_find, refresh_apply, refresh_apply_batch).
const counters = { statements: 0, commits: 0, autocommits: 0 };
const inTransaction = new WeakSet<pg.Client>();
/** When set, the text of every statement sent is kept (one request's worth, for the report). */
let statementLog: string[] | undefined;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  counters.statements += 1;
  const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
  if (text && /^\s*(begin|start transaction)\b/i.test(text)) inTransaction.add(this);
  else if (text && /^\s*(commit|rollback)\b/i.test(text)) {
    inTransaction.delete(this);
    if (/^\s*commit\b/i.test(text)) counters.commits += 1;
  } else if (!inTransaction.has(this)) counters.autocommits += 1;
  if (statementLog && statementLog.length < 500) statementLog.push(text ?? '?');
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const port = Number(process.env.PORT);
const config = loadConfig({
  NODE_ENV: 'test',
  PORT: String(port),
  HOST: '127.0.0.1',
  PUBLIC_URL: `http://localhost:${port}`,
  FACET_TEST_HELPERS: '1',
  LOG_LEVEL: 'silent',
  DATABASE_URL: process.env.DATABASE_URL!,
  // Every request comes from 127.0.0.1 with one of two clients: the per-IP (300/min) and per-client
  // (600/min) token limits would answer 429 within a second. The limiter stays in the path (its
  // cost is measured), with budgets the bench never reaches.
  FACET_RATE_LIMITS: JSON.stringify({ 'token.ip': { points: 1_000_000_000 }, 'token.account': { points: 1_000_000_000 } }),
  ...(process.env.FACET_TENANTS_DIR ? { FACET_TENANTS_DIR: process.env.FACET_TENANTS_DIR } : {}),
  // BENCH_REDIS_URL: shared rate-limit counters in Redis, as a multi-node installation runs them
  // (default: none, per-process counters).
  ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
  ...(process.env.FACET_TENANT_POOL_SIZE ? { FACET_TENANT_POOL_SIZE: process.env.FACET_TENANT_POOL_SIZE } : {}),
});
const facet = await startFacet(config, { logger: pino({ level: 'silent' }) });
const tenant = (await findTenant(facet.database.db, 'demo'))!;
const user = await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: `bench-${process.pid}` }));

serveParent({
  stop: () => facet.stop(2000),
  counters: async () => ({ ...counters }),
  /** Heap and RSS after a full collection (the child runs with --expose-gc for the tenants bench), and the warm tenants. */
  memory: async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i += 1) gc?.();
    const { heapUsed, rss, external, arrayBuffers } = process.memoryUsage();
    return { heapUsed, rss, external, arrayBuffers, collected: Boolean(gc), warmTenants: facet.facet.pool.size };
  },
  'log-statements': async (message: { on: boolean }) => {
    const log = statementLog ?? [];
    statementLog = message.on ? [] : undefined;
    return { statements: log };
  },
});
process.send!({ ready: true, port, sub: user.id, database: facet.database.kind });
