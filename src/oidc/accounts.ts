// How oidc-provider finds an account: the tenant's live users only (soft-deleted ones are gone).
import type { Kysely } from 'kysely';
import type { Account, FindAccount } from 'oidc-provider';
import { withTenant, type TenantScope } from '../db/tenant-scope.ts';
import { findLiveUserById } from '../accounts/users.ts';

export function createFindAccount(db: Kysely<any>, scope: TenantScope): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await withTenant(db, scope, (trx) => findLiveUserById(trx, sub));
    if (!user || user.status !== 'active') return undefined;
    return {
      accountId: user.id,
      async claims() {
        return {
          sub: user.id,
          preferred_username: user.username,
          name: user.display_name ?? user.username,
          email: user.email ?? undefined,
          email_verified: user.email ? user.email_verified : undefined,
        };
      },
    };
  };
}
