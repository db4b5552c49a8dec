// The static per-tenant admin token is gone (admin API: OAuth access tokens on the built-in admin
// resource). A deployment that still carries one is told at boot what to use instead: tenant
// files that set settings.admin_token are refused when applied (src/tenancy/tenant-file.ts); this
// finds the leftovers that would otherwise pass silently — a tenant whose stored settings still
// hold one (applied by an older version), and *_ADMIN_TOKEN variables still in the environment.
import { ADMIN_TOKEN_GONE, legacyTenantSettingsSchema } from '../tenancy/tenant-file.ts';

export function staticAdminTokenLeftovers(tenants: ReadonlyArray<{ slug: string; settings: unknown }>, env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  for (const tenant of tenants) {
    // A row that still holds it did not parse as today's settings and is served as stored
    // (src/tenancy/registry.ts); the legacy schema reads just the setting that is gone.
    const legacy = legacyTenantSettingsSchema.safeParse(tenant.settings);
    if (legacy.success && legacy.data.admin_token !== undefined) {
      found.push(`tenant ${tenant.slug}: its stored settings still hold admin_token, which is ignored now. ${ADMIN_TOKEN_GONE}`);
    }
  }
  // Names only, never values.
  const names = Object.keys(env).filter((name) => /(?:^|_)ADMIN_TOKEN$/.test(name) && env[name]);
  if (names.length > 0) {
    found.push(`${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} set, but static admin tokens are no longer accepted by the admin API. ${ADMIN_TOKEN_GONE}`);
  }
  return found;
}
