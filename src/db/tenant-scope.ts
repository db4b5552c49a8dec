// Every piece of tenant-scoped work runs here: one transaction that first switches to the tenant's
// own role and schema. The role has privileges on its schema only, so even a query that names
// another tenant's schema explicitly fails with "permission denied".
import { sql, type Kysely, type Transaction } from 'kysely';

export interface TenantScope {
  readonly slug: string;
  readonly schema: string;
  readonly role: string;
}

export type TenantDb = Transaction<any>;

export async function withTenant<T>(db: Kysely<any>, scope: TenantScope, work: (trx: TenantDb) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await enterTenant(trx, scope);
    return work(trx);
  });
}

/** Switches an open transaction to the tenant (transaction-local, undone at commit/rollback). */
export async function enterTenant(trx: Transaction<any>, scope: TenantScope): Promise<void> {
  await sql`select set_config('role', ${scope.role}, true), set_config('search_path', ${scope.schema}, true)`.execute(trx);
}
