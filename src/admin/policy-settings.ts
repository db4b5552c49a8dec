// What an administrator may change of the security policies (issue 12): the admin API's body schema,
// built from the tenant file's own pieces (src/tenancy/policy-schemas.ts, validated ranges), in
// `zod/mini` with no server imports so the console checks its form with this very schema
// (public/scripts/console/pages/policies.tsx).
import * as z from 'zod/mini';
import { acrValueSchema } from '../stepup/acr-value.ts';
import { rateLimitsSchema, signupSchema, userVerificationSchema } from '../tenancy/policy-schemas.ts';

export const policiesBody = z.strictObject({
  signup: z.optional(signupSchema),
  user_verification: z.optional(userVerificationSchema),
  admin_acr: z.optional(acrValueSchema),
  refresh_tokens: z.optional(
    z.strictObject({
      grace_seconds: z.optional(z.int().check(z.minimum(0), z.maximum(60))),
      absolute_lifetime_seconds: z.optional(z.int().check(z.minimum(3600))),
      idle_timeout_seconds: z.optional(z.int().check(z.minimum(300))),
    }),
  ),
  rate_limits: z.optional(rateLimitsSchema),
});
export type PoliciesSettings = z.output<typeof policiesBody>;
