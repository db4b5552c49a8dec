// RP-initiated logout ends refresh-token families. oidc-provider keeps offline_access grants
// alive through logout by default; Facet ends the families of every client signed out of the
// session (all of them on "sign me out", the requesting client otherwise).
import type { KoaContextWithOIDC } from 'oidc-provider';
import { withTenant, type TenantScope } from '../../db/tenant-scope.ts';
import { endFamily } from './families.ts';
import type { RootDb } from '../../db/client.ts';

export interface LogoutDeps {
  db: RootDb;
  scope: TenantScope;
  grantHash: (grantId: string) => string;
  now: () => number;
}

export async function endFamiliesOfEndedSession(ctx: KoaContextWithOIDC, { db, scope, grantHash, now }: LogoutDeps): Promise<number> {
  const session = ctx.oidc?.session as (KoaContextWithOIDC['oidc']['session'] & { destroyed?: boolean; uid?: string }) | undefined;
  if (!session?.uid) return 0;
  const remaining = session.destroyed ? [] : Object.keys(session.authorizations ?? {});
  return withTenant(db, scope, async (trx) => {
    let query = trx.selectFrom('refresh_families').select('grant_id').where('session_uid', '=', session.uid!).where('ended_at', 'is', null);
    if (remaining.length > 0) query = query.where('client_id', 'not in', remaining);
    const rows = await query.execute();
    for (const row of rows) {
      await endFamily(trx, { grantId: row.grant_id as string, grantHash: grantHash(row.grant_id as string), reason: 'logout', now: new Date(now()) });
    }
    return rows.length;
  });
}

/** Provider middleware: runs after the logout confirmation has been processed, before the answer leaves. */
export function endFamiliesOnLogout(deps: LogoutDeps) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.oidc?.route === 'end_session_confirm' && ctx.status >= 300 && ctx.status < 400) {
      await endFamiliesOfEndedSession(ctx, deps);
    }
  };
}
