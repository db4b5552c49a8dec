// The security policies a tenant file and the console both set (sign-up, user verification, the admin
// acr, rate limits), in `zod/mini` and pure: the tenant file's schema (tenant-file.ts), the admin API's
// body (src/admin/policy-settings.ts) and the console's form check use these same schemas.
import * as z from 'zod/mini';
import { POLICY_KEYS, type PolicyKey } from '../ratelimit/policies.ts';

export const SIGNUP_MODES = ['open', 'invite', 'closed'] as const;
export const USER_VERIFICATION_MODES = ['required', 'preferred'] as const;
export const signupSchema = z.enum(SIGNUP_MODES);
export const userVerificationSchema = z.enum(USER_VERIFICATION_MODES);

/** Rate-limit overrides, e.g. { "signin.ip": { "points": 100 } }; an unknown key is refused. */
export const rateLimitsSchema = z.partialRecord(
  z.enum(POLICY_KEYS as unknown as [PolicyKey, ...PolicyKey[]]),
  z.strictObject({
    points: z.optional(z.int().check(z.positive())),
    duration: z.optional(z.int().check(z.positive())),
    blockDuration: z.optional(z.int().check(z.minimum(0))),
  }),
);
