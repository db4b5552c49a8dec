// The first minute (issue 12): in development, while the demo tenant has no admin, the start banner
// prints a single-use link that makes the next passkey sign-up at demo its admin (an invite for
// any email address that carries the admin role, valid for a day). Never in production: there the
// first admin comes from `facet admin invite --tenant <slug> --role admin <email>` or the tenant
// file's `admins:` (README, Console).
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { findTenant } from '../tenancy/registry.ts';
import { ANY_EMAIL, createInvite } from '../accounts/invites.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { countAdmins } from '../admin/roles.ts';

type Db = Parameters<typeof withTenant>[0];

export async function firstAdminLink(db: Db, config: Pick<Config, 'production' | 'publicUrl' | 'cookieKeys'>, slug = 'demo'): Promise<string | undefined> {
  if (config.production) return undefined;
  const tenant = await findTenant(db, slug);
  if (!tenant || tenant.status !== 'active') return undefined;
  return withTenant(db, tenant, async (trx) => {
    if ((await countAdmins(trx)) > 0) return undefined;
    const invite = await createInvite(trx, { slug, email: ANY_EMAIL, key: config.cookieKeys[0]!, createdBy: 'start-banner', role: 'admin', ttlSeconds: 24 * 3600 });
    await appendAudit(trx, { type: 'invite.created', actor: 'start-banner', data: { invite_id: invite.id, email: null, expires_at: invite.expiresAt.toISOString(), role: 'admin' } });
    return `${config.publicUrl}/t/${slug}/account/sign-in/signup?invite=${invite.token}`;
  });
}
