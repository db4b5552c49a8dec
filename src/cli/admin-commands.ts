// `facet admin …`: console roles from the command line (issue 12). grant and revoke name a user of
// the tenant by username, email address or id; invite prints a sign-up link that carries a role.
// Every grant and revoke is an audit event with actor `cli`.
import { FacetError } from '../errors/facet-error.ts';
import { OPERATOR_ROLE, ROLES, type Role } from '../admin/roles.ts';

import type { Command } from './command.ts';

class AdminCommandError extends FacetError {
  readonly code = 'admin_command_failed';
}

async function withTenantDb<T>(slug: string | undefined, work: (input: { db: import('../db/tenant-scope.ts').TenantDb; config: import('../config/index.ts').Config; slug: string }) => Promise<T>): Promise<T> {
  if (!slug) throw new AdminCommandError('--tenant <slug> is required');
  const { loadConfig } = await import('../config/index.ts');
  const { openConfiguredDatabase, migrateAll } = await import('../boot.ts');
  const { findTenant } = await import('../tenancy/registry.ts');
  const { withTenant } = await import('../db/tenant-scope.ts');
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    await migrateAll(database);
    const tenant = await findTenant(database.db, slug);
    if (!tenant) throw new AdminCommandError(`no tenant called ${slug}`);
    return await withTenant(database.db, tenant, (trx) => work({ db: trx, config, slug: tenant.slug }));
  } finally {
    await database.close();
  }
}

/** The console roles, and `operator` (the platform console's, meaningful in FACET_OPERATOR_TENANT). */
const GRANTABLE: readonly string[] = [...ROLES, OPERATOR_ROLE];

function roleOf(value: unknown, allowed: readonly string[] = GRANTABLE): Role {
  if (typeof value !== 'string') throw new AdminCommandError(`--role <${allowed.join('|')}> is required`);
  if (!allowed.includes(value)) throw new AdminCommandError(`--role must be one of ${allowed.join(', ')} (not ${value})`);
  return value as Role;
}

async function userOf(trx: import('../db/tenant-scope.ts').TenantDb, handle: string, slug: string) {
  const { findUserByHandle } = await import('../admin/roles.ts');
  const user = await findUserByHandle(trx, handle);
  if (!user) throw new AdminCommandError(`no user ${handle} in tenant ${slug} (give a username, an email address or an id)`);
  return user;
}

export const adminCommands: Record<string, Command> = {
  'admin grant': {
    summary: 'give a user of the tenant a console role (admin, helpdesk, auditor; operator in the operator tenant)',
    usage: 'admin grant --tenant <slug> <user> --role <admin|helpdesk|auditor|operator>',
    positionals: 1,
    options: { tenant: { type: 'string' }, role: { type: 'string' } },
    async run({ positionals, values, out }) {
      const role = roleOf(values.role);
      return withTenantDb(values.tenant, async ({ db, slug }) => {
        const { grantRole } = await import('../admin/roles.ts');
        const user = await userOf(db, positionals[0]!, slug);
        const granted = await grantRole(db, { userId: user.id, role, source: 'cli', actor: 'cli' });
        out.write(granted ? `granted ${role} to ${user.username} (${user.id}) in ${slug}\n` : `${user.username} already holds ${role} in ${slug}\n`);
      });
    },
  },
  'admin revoke': {
    summary: 'take a console role from a user of the tenant',
    usage: 'admin revoke --tenant <slug> <user> --role <admin|helpdesk|auditor|operator>',
    positionals: 1,
    options: { tenant: { type: 'string' }, role: { type: 'string' } },
    async run({ positionals, values, out }) {
      const role = roleOf(values.role);
      return withTenantDb(values.tenant, async ({ db, slug }) => {
        const { revokeRole, rolesOf } = await import('../admin/roles.ts');
        const { closeConsoleSessionsOf } = await import('../console/sessions.ts');
        const user = await userOf(db, positionals[0]!, slug);
        const revoked = await revokeRole(db, { userId: user.id, role, actor: 'cli' });
        if (revoked && (await rolesOf(db, user.id)).length === 0) await closeConsoleSessionsOf(db, user.id);
        out.write(revoked ? `revoked ${role} from ${user.username} (${user.id}) in ${slug}\n` : `${user.username} does not hold ${role} in ${slug}\n`);
      });
    },
  },
  'admin list': {
    summary: 'list who holds which console role in a tenant',
    usage: 'admin list --tenant <slug>',
    options: { tenant: { type: 'string' } },
    async run({ values, out }) {
      return withTenantDb(values.tenant, async ({ db, slug }) => {
        const { listRoleGrants } = await import('../admin/roles.ts');
        const grants = await listRoleGrants(db);
        if (grants.length === 0) out.write(`nobody holds a console role in ${slug}\n`);
        for (const g of grants) out.write(`${g.username.padEnd(24)} ${g.role.padEnd(9)} ${g.source.padEnd(8)} ${g.email ?? ''}\n`);
      });
    },
  },
  'admin invite': {
    summary: 'print a signed, single-use sign-up link that grants a console role (no mail is sent)',
    usage: 'admin invite --tenant <slug> --role <admin|helpdesk|auditor> <email>',
    positionals: 1,
    options: { tenant: { type: 'string' }, role: { type: 'string' } },
    async run({ positionals, values, out }) {
      const role = roleOf(values.role, ROLES);
      const email = positionals[0]!;
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new AdminCommandError(`${email} is not an email address`);
      return withTenantDb(values.tenant, async ({ db, config, slug }) => {
        const { createInvite } = await import('../accounts/invites.ts');
        const { appendAudit } = await import('../audit/audit-log.ts');
        const created = await createInvite(db, { slug, email, key: config.cookieKeys[0]!, createdBy: 'cli', role });
        await appendAudit(db, { type: 'invite.created', actor: 'cli', data: { invite_id: created.id, email, expires_at: created.expiresAt.toISOString(), role } });
        out.write(`${config.publicUrl}/t/${slug}/account/sign-in/signup?invite=${created.token}\n`);
        out.write(`(for ${email}, who becomes ${role} on sign-up; single use; expires ${created.expiresAt.toISOString()})\n`);
      });
    },
  },
};
