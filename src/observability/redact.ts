// What must never reach a log line: credentials, tokens, cookies, and biometric data. Pino's own
// `redact` only reaches fixed paths, so log objects are also scrubbed by key name at any depth.
// Pure: no imports of ours.

/** Key names whose values are replaced, wherever they appear (case-insensitive). */
const SENSITIVE_KEY =
  /^(authorization|proxy-authorization|cookie|cookies|set-cookie|x-csrf-token|password|passwd|passphrase|new_?password|secret|secrets|client_?secret|token|tokens|access_?token|refresh_?token|id_?token|id_token_hint|logout_token|registration_access_token|initial_access_token|code_verifier|otp|totp|totp_?code|seed|kek|private_?key|cookie_?keys|embedding_?keys|embedding|embeddings|image|images|frame|frames|photo|selfie|template|templates|assertion|sun|cmac)$/i;
/** Suffixes that always mean a secret: `demo_service_secret`, `session_token`, `api_key`, `signing_key`. */
const SENSITIVE_SUFFIX = /(_secret|_token|_password|_api_?key|_private_?key|_signing_?key|Secret|Token|Password)$/;

export const CENSOR = '[redacted]';

// Pino applies path redaction to child-logger bindings too, where the key scrub cannot reach
// (pino does not pass child bindings through formatters), so the common names are listed here at
// the top level and one level down.
const BINDING_KEYS = ['authorization', 'cookie', 'password', 'secret', 'client_secret', 'token', 'access_token', 'refresh_token', 'id_token', 'code_verifier', 'embedding', 'image', 'frames'];

/** Fixed paths for pino's fast redaction (headers of serialized requests, child bindings). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  ...BINDING_KEYS.flatMap((key) => [key, `*.${key}`]),
];

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key) || SENSITIVE_SUFFIX.test(key);
}

/** Returns a copy of `value` with sensitive keys censored; depth-limited and cycle-safe. */
export function scrub<T>(value: T, depth = 8, seen = new WeakSet<object>()): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
    // Binary payloads are never useful in a log and may be an image.
    return (Buffer.isBuffer(value) || ArrayBuffer.isView(value) ? `[${(value as ArrayBufferView).byteLength} bytes]` : value) as T;
  }
  if (seen.has(value)) return '[circular]' as T;
  if (depth <= 0) return '[nested]' as T;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth - 1, seen)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSensitiveKey(key) && inner !== undefined && inner !== null ? CENSOR : scrub(inner, depth - 1, seen);
  }
  return out as T;
}
