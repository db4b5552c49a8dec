// How oidc-provider finds an account: the tenant's live users only (soft-deleted ones are gone).
import type { Account, FindAccount } from 'oidc-provider';
import { withTenant, type TenantScope } from '../db/tenant-scope.ts';
import { findLiveUserById, type User } from '../accounts/users.ts';
import type { Rotations } from './refresh/rotation.ts';
import type { RootDb } from '../db/client.ts';

export function createFindAccount(db: RootDb, scope: TenantScope, rotations?: Rotations): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    // A refresh grant read the live account with its token (src/oidc/refresh/rotation.ts).
    const known = rotations?.account(sub);
    const user = known ? (known.row as User | undefined) : await withTenant(db, scope, (trx) => findLiveUserById(trx, sub));
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
