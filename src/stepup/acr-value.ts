// One acr value, as the tenant file, the admin API and the console's forms take it. In `zod/mini`
// and pure, so the console bundles the same rule (src/tenancy/policy-schemas.ts).
import * as z from 'zod/mini';

// acr_values is space-separated, so a value is one run of visible ASCII.
export const acrValueSchema = z.string().check(z.regex(/^[\x21-\x7e]{1,200}$/, 'an acr value is 1-200 visible ASCII characters without spaces'));
