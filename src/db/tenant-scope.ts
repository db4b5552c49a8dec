// Every piece of tenant-scoped work runs here: one transaction that first switches to the tenant's
// own role and schema. The role has privileges on its schema only, so even a query that names
// another tenant's schema explicitly fails with "permission denied".
import type { TenantSchema } from './schema.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type ControlledTransaction, type Kysely, type Transaction } from 'kysely';
import { classifyDatabaseError } from './errors.ts';

export interface TenantScope {
  readonly slug: string;
  readonly schema: string;
  readonly role: string;
}

export type TenantDb = Transaction<TenantSchema>;
/** A handle whose queries run in one tenant's schema (a tenant transaction, or a test's scoped handle). */
export type TenantKysely = Kysely<TenantSchema>;

interface RequestTransaction {
  db: Kysely<any>;
  scope: TenantScope;
  trx?: Promise<ControlledTransaction<any>>;
}
const requestTransaction = new AsyncLocalStorage<RequestTransaction>();

export async function withTenant<T>(db: Kysely<any>, scope: TenantScope, work: (trx: TenantDb) => Promise<T>): Promise<T> {
  try {
    // Inside withRequestTransaction for the same tenant, every piece of work shares its transaction.
    const shared = requestTransaction.getStore();
    if (shared && shared.db === db && shared.scope.schema === scope.schema) {
      shared.trx ??= (async () => {
        const trx = await db.startTransaction().execute();
        try {
          await enterTenant(trx, scope);
        } catch (error) {
          // Rolling back releases the connection, even when the rollback itself fails.
          await trx.rollback().execute().catch(() => {});
          throw error;
        }
        return trx;
      })();
      return await work((await shared.trx) as unknown as TenantDb);
    }
    return await db.transaction().execute(async (trx) => {
      await enterTenant(trx, scope);
      return work(trx);
    });
  } catch (error) {
    // A lost database becomes one DatabaseUnavailableError (503 with Retry-After), not a 500.
    throw classifyDatabaseError(error);
  }
}

/**
 * Runs one request so that all its tenant work shares one transaction, opened on first use and
 * committed at the end when `commitIf()` says so (else rolled back). The token endpoint uses it:
 * one durable commit per token request instead of one per storage call.
 */
export async function withRequestTransaction<T>(db: Kysely<any>, scope: TenantScope, work: () => Promise<T>, commitIf: () => boolean): Promise<T> {
  const store: RequestTransaction = { db, scope };
  let result: T;
  try {
    result = await requestTransaction.run(store, work);
  } catch (error) {
    const trx = store.trx && (await store.trx.catch(() => undefined));
    // A failed rollback (the connection is gone) still releases it; the first error is the news.
    await trx?.rollback().execute().catch(() => {});
    throw classifyDatabaseError(error);
  }
  if (store.trx) {
    try {
      const trx = await store.trx;
      try {
        if (commitIf()) await trx.commit().execute();
        else await trx.rollback().execute();
      } catch (error) {
        // kysely keeps the connection checked out when COMMIT fails; a rollback releases it.
        await trx.rollback().execute().catch(() => {});
        throw error;
      }
    } catch (error) {
      throw classifyDatabaseError(error);
    }
  }
  return result;
}

/** The request transaction (withRequestTransaction) already opened for this tenant, if any; never opens one. */
export function openedRequestTransaction(db: Kysely<any>, scope: TenantScope): Promise<ControlledTransaction<any>> | undefined {
  const shared = requestTransaction.getStore();
  return shared && shared.db === db && shared.scope.schema === scope.schema ? shared.trx : undefined;
}

/** Switches an open transaction to the tenant (transaction-local, undone at commit/rollback). */
export async function enterTenant(trx: Transaction<any>, scope: TenantScope): Promise<void> {
  await sql`select set_config('role', ${scope.role}, true), set_config('search_path', ${scope.schema}, true)`.execute(trx);
}

/**
 * The same transaction without table types: only for code that works over a table named at run
 * time (the key re-encryption walks several tables with one loop). Everything else is typed.
 */
export const untypedTables = (trx: TenantDb): Transaction<any> => trx as unknown as Transaction<any>;
