// Strings PostgreSQL cannot store: `text` refuses NUL (U+0000, "invalid byte sequence"), `jsonb`
// refuses the \u0000 escape ("unsupported Unicode escape sequence") and unpaired UTF-16
// surrogates. Request input carrying one is refused as bad input before it reaches a query,
// instead of failing there as a 500.

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `value` is a string PostgreSQL would refuse to store. */
export function isUnstorableString(value: string): boolean {
  return value.includes('\u0000') || UNPAIRED_SURROGATE.test(value);
}

/** Whether any string in `value` (keys included, nested objects and arrays walked) is unstorable. */
export function containsUnstorable(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return isUnstorableString(value);
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((item) => containsUnstorable(item, depth + 1));
  for (const [key, item] of Object.entries(value)) {
    if (isUnstorableString(key) || containsUnstorable(item, depth + 1)) return true;
  }
  return false;
}

/**
 * PostgreSQL's own refusals of such strings (when one got through anyway): bad input, not a fault.
 * NUL has codes of its own (22021 in text, 22P05 as a jsonb escape). An unpaired surrogate in jsonb
 * is 22P02 invalid_text_representation, the same code as any malformed JSON or uuid, and only the
 * error's detail ("Unicode low surrogate must follow a high surrogate") tells it apart: there is no
 * code-only way, so that one case reads the detail (test/db/unstorable-errors.test.ts).
 */
export function isUnstorableInputError(error: unknown): boolean {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  return code === '22P05' || code === '22021' || (code === '22P02' && /surrogate/i.test(String(detail)));
}
