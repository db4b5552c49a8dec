// One tenant transaction in as few round trips as its work allows (issue 16).
//
// withTenant() pays a round trip for BEGIN, one for the tenant's role and search_path, one per
// statement and one for COMMIT. Here the connection is put in pg's pipeline mode for the
// transaction, and nothing is sent alone that can travel with something else:
//   - BEGIN and the tenant switch (enterTenant's set_config) travel with the first statement;
//   - writes whose answer nobody reads (a counter update, an audit append) go through `later`:
//     they are held back and sent ahead of the next statement, or together with COMMIT.
// So "read, work in Node, write, commit" is two round trips and one commit.
//
// Every statement has its own Sync. When one fails, the transaction is aborted and every statement
// written behind it fails as well ("current transaction is aborted"), the tenant's statements
// included: nothing runs outside the tenant's role and schema, and a COMMIT behind a failed
// statement rolls back. The first error is thrown and the transaction rolled back, as withTenant
// does. (BEGIN itself fails only with the connection; then so does everything behind it.)
//
// Statements are named, so each is parsed once per connection. PostgreSQL analyses a prepared
// statement again when search_path has changed since its last use, so a connection that served
// another tenant never runs against that tenant's tables; privileges are checked at every execution.
//
// Not joined with withRequestTransaction: this is a transaction of its own, committed at the end.
import { createHash } from 'node:crypto';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { TenantSchema } from './schema.ts';
import { classifyDatabaseError } from './errors.ts';
import { withTenant, type TenantDb, type TenantScope } from './tenant-scope.ts';

interface PgResult {
  command: string;
  rowCount: number | null;
  rows: unknown[];
}

/** What this needs of a pool's client: pg.Client (pipelined), or the PGlite pool's (one statement at a time). */
interface PoolClient {
  query(text: string, values?: readonly unknown[]): Promise<PgResult>;
  query(config: { name?: string; text: string; values: readonly unknown[] }): Promise<PgResult>;
  release(destroy?: boolean): void;
  /** pg's pipeline mode (pg ≥ 8.17); absent on the PGlite pool's client. */
  pipeline?: boolean;
}

interface Pool {
  connect(): Promise<PoolClient>;
}

const pools = new WeakMap<Kysely<any>, Pool>();

/** Called by openDatabase: the pool behind a root handle, for withTenantPipeline. */
export function registerPool(db: Kysely<any>, pool: Pool): void {
  pools.set(db, pool);
}

export interface PipelinedTenant {
  /** Statements whose result is read: each one a round trip, carrying whatever was held back. */
  trx: TenantDb;
  /** Writes whose result is not read (it comes back empty): held back until the next statement or COMMIT. */
  later: TenantDb;
}

/** Named statements per distinct text, at most this many (kysely's statements are a bounded set of shapes). */
const MAX_NAMED = 256;
const names = new Map<string, string>();
function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (!name && names.size < MAX_NAMED) {
    name = `facet_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');
/** enterTenant's statement (src/db/tenant-scope.ts), with the role and schema as parameters. */
const ENTER_TENANT = "select set_config('role', $1, true), set_config('search_path', $2, true)";

/** Sends the statements together (one round trip when the client pipelines) and returns every result, or throws the first error. */
async function flight(client: PoolClient, queries: CompiledQuery[]): Promise<PgResult[]> {
  if (client.pipeline === undefined) {
    const results: PgResult[] = [];
    for (const q of queries) results.push(await client.query(q.sql, q.parameters));
    return results;
  }
  const settled = await Promise.allSettled(queries.map((q) => client.query({ name: nameOf(q.sql), text: q.sql, values: q.parameters })));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<PgResult>).value);
}

function toQueryResult<R>({ command, rowCount, rows }: PgResult): QueryResult<R> {
  const changes = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
  return { ...(changes ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}), rows: (rows ?? []) as R[] };
}

/** A Kysely whose every statement goes to `execute` (no transactions of its own: it is inside one). */
function handle(execute: (query: CompiledQuery) => Promise<QueryResult<any>>): TenantDb {
  const connection: DatabaseConnection = {
    executeQuery: execute as DatabaseConnection['executeQuery'],
    streamQuery: () => {
      throw new Error('streaming is not available in a pipelined tenant transaction');
    },
  };
  const unsupported = async () => {
    throw new Error('a pipelined tenant transaction is begun and ended by withTenantPipeline');
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: unsupported,
    commitTransaction: unsupported,
    rollbackTransaction: unsupported,
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const db = new Kysely<TenantSchema>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  // Typed as a transaction: the callers' query functions take one, and it is one.
  return db as unknown as TenantDb;
}

/**
 * Like withTenant (one transaction in the tenant's role and schema, committed when `work`
 * resolves, rolled back when it throws), in fewer round trips: see the header. A root handle that
 * openDatabase did not make runs `work` in withTenant, with `later` the same as `trx`.
 */
export async function withTenantPipeline<T>(db: Kysely<any>, scope: TenantScope, work: (tenant: PipelinedTenant) => Promise<T>): Promise<T> {
  const pool = pools.get(db);
  if (!pool) return withTenant(db, scope, (trx) => work({ trx, later: trx }));
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw classifyDatabaseError(error);
  }
  const pipelined = client.pipeline !== undefined;
  if (pipelined) client.pipeline = true;
  let begun = false;
  let held: CompiledQuery[] = [];
  // BEGIN and the tenant switch ahead of the first statement, then whatever was held back.
  const ahead = (): CompiledQuery[] => {
    const queries = begun ? [] : [BEGIN, CompiledQuery.raw(ENTER_TENANT, [scope.role, scope.schema])];
    begun = true;
    queries.push(...held);
    held = [];
    return queries;
  };
  let broken = false;
  try {
    const trx = handle(async (query) => {
      const results = await flight(client, [...ahead(), query]);
      return toQueryResult(results.at(-1)!);
    });
    const later = handle(async (query) => {
      held.push(query);
      return { rows: [] };
    });
    const result = await work({ trx, later });
    if (begun || held.length > 0) {
      const results = await flight(client, [...ahead(), COMMIT]);
      // COMMIT of a transaction that an error (caught by `work`) aborted answers ROLLBACK.
      if (results.at(-1)!.command !== 'COMMIT') throw new Error('the tenant transaction was aborted by an earlier error and rolled back');
    }
    return result;
  } catch (error) {
    if (begun) {
      try {
        await flight(client, [ROLLBACK]);
      } catch {
        // The connection is gone: the pool must not hand it out again.
        broken = true;
      }
    }
    throw classifyDatabaseError(error);
  } finally {
    if (pipelined) client.pipeline = false;
    client.release(broken);
  }
}
