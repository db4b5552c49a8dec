// What an administrator sets on the tenant's branding (issue 12): the admin API's body schema, in
// `zod/mini` with no server imports so the console checks its form with this very schema
// (public/scripts/console/pages/branding.tsx). The colour rule is src/tenancy/brand-color.ts's.
import * as z from 'zod/mini';
import { brandColorProblem } from '../tenancy/brand-color.ts';

export const brandingBody = z.strictObject({
  displayName: z.optional(z.string().check(z.trim(), z.minLength(1, 'give the tenant a name'), z.maxLength(120))),
  logoUrl: z.optional(z.nullable(z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL of an image' }).check(z.maxLength(2000)))),
  primaryColor: z.optional(
    z.nullable(
      z.string().check(
        z.superRefine((value, ctx) => {
          const problem = brandColorProblem(value);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      ),
    ),
  ),
});
export type BrandingSettings = z.output<typeof brandingBody>;
