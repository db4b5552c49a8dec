// What an administrator sets on a user (issue 12): the admin API's bodies for editing a profile and
// inviting someone, in `zod/mini` with no server imports so the console checks its forms with these
// very schemas (public/scripts/console/pages/user.tsx, admins.tsx).
import * as z from 'zod/mini';

/** The console roles (the tenant file's ADMIN_ROLES, src/tenancy/tenant-file.ts; users-api.ts checks they agree). */
export const CONSOLE_ROLES = ['admin', 'helpdesk', 'auditor'] as const;

export const inviteBody = z.strictObject({
  email: z.email().check(z.maxLength(320)),
  role: z.optional(z.enum(CONSOLE_ROLES)).register(z.globalRegistry, { description: 'A console role the new user is granted on sign-up.' }),
});
export const profileBody = z.strictObject({
  displayName: z.optional(z.nullable(z.string().check(z.trim(), z.maxLength(100)))).register(z.globalRegistry, { description: 'Shown name; null clears it.' }),
  email: z.optional(z.email().check(z.maxLength(320))).register(z.globalRegistry, { description: 'A new email address (not verified until the user verifies it).' }),
});
