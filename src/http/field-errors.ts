// A zod failure as RFC 9457 `errors` members: `in` (path, query or body), a JSON pointer to the field
// (`#/redirect_uris/0`) and what is wrong with it. Pure (zod's core types only), so the console's forms
// (public/scripts/console/forms.tsx) turn their own check of a body into exactly what the API answers.
import type { core } from 'zod/mini';

export interface FieldErrorMember {
  in: string;
  pointer: string;
  detail: string;
}

export function fieldErrors(where: string, error: { issues: readonly core.$ZodIssue[] }): FieldErrorMember[] {
  return error.issues.map((issue) => ({
    in: where,
    pointer: `#/${issue.path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`,
    detail: issue.message,
  }));
}
