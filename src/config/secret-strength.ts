// How production measures a secret. We cannot prove that a value came from a random generator, so
// the rule is a length floor equal to 32 random bytes plus a guard against obvious mistakes:
//
// - keys with a binary format are decoded (strict base64url, `=` padding allowed) and their byte
//   length checked: FACET_KEK and each Fernet key in FACET_EMBEDDING_KEYS exactly 32 bytes,
//   FACET_TOKEN_HASH_KEY at least 32;
// - free-form secrets (cookie keys, METRICS_TOKEN, client secrets, admin tokens) are used as given,
//   so they need at least 43 characters — the length of 32 bytes in base64url; 64 hex characters
//   or `openssl rand -base64 32` (44) qualify too;
// - every secret is refused when it is one block repeated (`aaaa…`, `abcabc…`) or when its
//   estimated entropy — length × the Shannon entropy of its own character frequencies — is under
//   128 bits. Random 32-byte keys estimate at 180–250 bits in every common encoding, so the guard
//   never refuses a generated key, while one character repeated (0 bits) or the base64url of 32
//   equal bytes (86 bits) fails.
//
// Generate secrets with `node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`.

export const MIN_SECRET_BYTES = 32;
/** Characters of 32 bytes written in base64url. */
export const MIN_SECRET_CHARS = 43;
export const MIN_ESTIMATED_BITS = 128;

export type SecretFormat = 'text' | 'base64url-32' | 'base64url-32-or-more';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** Bytes of a strict base64url string (padding allowed), or undefined when it is not one. */
export function decodeStrictBase64url(value: string): Buffer | undefined {
  if (!BASE64URL.test(value) || value.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(value, 'base64url');
}

/** length × Shannon entropy (bits per character) of the value's own character frequencies. */
export function estimatedBits(value: string): number {
  const chars = [...value];
  const counts = new Map<string, number>();
  for (const char of chars) counts.set(char, (counts.get(char) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * chars.length;
}

/**
 * Why a secret is too weak for production, or undefined when it passes. `name` is the variable
 * the message names (e.g. `FACET_COOKIE_KEYS (key 2 of 3)`).
 */
export function secretWeakness(name: string, value: string, format: SecretFormat = 'text'): string | undefined {
  if (format !== 'text') {
    const bytes = decodeStrictBase64url(value);
    if (!bytes) return `${name} is not base64url; generate ${MIN_SECRET_BYTES} random bytes and encode them as base64url`;
    if (format === 'base64url-32' && bytes.length !== MIN_SECRET_BYTES) {
      return `${name} decodes to ${bytes.length} bytes; it must be exactly ${MIN_SECRET_BYTES} random bytes, base64url-encoded`;
    }
    if (bytes.length < MIN_SECRET_BYTES) {
      return `${name} decodes to ${bytes.length} bytes; it must be at least ${MIN_SECRET_BYTES} random bytes, base64url-encoded`;
    }
  } else if (value.length < MIN_SECRET_CHARS) {
    return `${name} is ${value.length} characters; it must be at least ${MIN_SECRET_CHARS} (${MIN_SECRET_BYTES} random bytes in base64url)`;
  }
  if (/^(.+?)\1+$/s.test(value)) return `${name} is one short block repeated; generate ${MIN_SECRET_BYTES} random bytes`;
  const bits = estimatedBits(value);
  if (bits < MIN_ESTIMATED_BITS) {
    return `${name} looks low-entropy (about ${Math.round(bits)} bits estimated, ${MIN_ESTIMATED_BITS} needed); generate ${MIN_SECRET_BYTES} random bytes`;
  }
  return undefined;
}

/** The installation's secrets, how each is read and which format it has. */
export const INSTALLATION_SECRETS: ReadonlyArray<{ name: string; list: boolean; format: SecretFormat }> = [
  { name: 'FACET_KEK', list: true, format: 'base64url-32' },
  { name: 'FACET_TOKEN_HASH_KEY', list: false, format: 'base64url-32-or-more' },
  { name: 'FACET_COOKIE_KEYS', list: true, format: 'text' },
  { name: 'FACET_EMBEDDING_KEYS', list: true, format: 'base64url-32' },
  { name: 'FACET_FACTOR_KEYS', list: true, format: 'base64url-32' },
  { name: 'METRICS_TOKEN', list: false, format: 'text' },
];

// The factor ring may keep the embedding ring's keys while factor secrets sealed under them are
// re-sealed (FACET_FACTOR_KEYS falls back to FACET_EMBEDDING_KEYS when unset).
const SHARED_RINGS = new Set(['FACET_EMBEDDING_KEYS', 'FACET_FACTOR_KEYS']);
const mayShare = (a: string, b: string) => SHARED_RINGS.has(a) && SHARED_RINGS.has(b);

/**
 * Every strength problem of the installation's secrets that are set, plus any value shared by two
 * of them (each secret keys something different; one leak must not open two doors). Missing
 * values and published development values are reported by loadConfig itself and skipped here.
 */
export function productionSecretProblems(source: Record<string, string | undefined>, isDevSecret: (value: string) => boolean): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const { name, list, format } of INSTALLATION_SECRETS) {
    const raw = source[name];
    if (!raw) continue;
    const values = list ? raw.split(',').map((item) => item.trim()).filter(Boolean) : [raw];
    values.forEach((value, index) => {
      if (isDevSecret(value)) return;
      const label = values.length > 1 ? `${name} (key ${index + 1} of ${values.length})` : name;
      const weakness = secretWeakness(label, value, format);
      if (weakness) problems.push(weakness);
      const owner = owners.get(value);
      if (owner && owner !== name && !mayShare(owner, name)) problems.push(`${name} repeats a value of ${owner}; every secret must be its own random value`);
      else owners.set(value, name);
    });
  }
  return problems;
}
