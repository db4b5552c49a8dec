// A ring of Fernet keys (MultiFernet): the first key encrypts, every key decrypts. Rotation is
// "put the new key first, keep the old ones, re-encrypt, then drop the old ones". Fernet tokens do
// not say which key made them, so each key gets a short public id (a hash of the key) that the
// callers store beside the token to know what still needs re-encrypting.
import { createHash } from 'node:crypto';
import { FacetError } from '../errors/facet-error.ts';
import { createFernet, FernetError, generateFernetKey, type Fernet, type FernetDecryptOptions } from './fernet.ts';

export { generateFernetKey };

export type KeyRingErrorCode = 'key_ring_empty' | 'key_ring_invalid_key' | 'key_ring_duplicate_key' | 'key_ring_cannot_decrypt';

export class KeyRingError extends FacetError {
  readonly code: KeyRingErrorCode;
  constructor(code: KeyRingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeyRingError';
    this.code = code;
  }
}

export interface KeyRing {
  /** Id of the key that encrypts (the first one). */
  readonly primaryKeyId: string;
  /** Ids of all keys, first key first. */
  readonly keyIds: readonly string[];
  encrypt(plaintext: Uint8Array): string;
  decrypt(token: string, options?: FernetDecryptOptions): Buffer;
  /** Like decrypt, and says which key opened the token. */
  open(token: string, options?: FernetDecryptOptions): { plaintext: Buffer; keyId: string };
}

/** A short, stable, public name for a key. 48 bits of SHA-256 over a labelled key: it names, it does not protect. */
export function fernetKeyId(key: string): string {
  return createHash('sha256').update('facet-fernet-key-id\0').update(key.trim()).digest('hex').slice(0, 12);
}

export function createKeyRing(keys: readonly string[], { clock = Date.now }: { clock?: () => number } = {}): KeyRing {
  if (keys.length === 0) throw new KeyRingError('key_ring_empty', 'the key ring needs at least one Fernet key');
  const members: Array<{ id: string; fernet: Fernet }> = [];
  keys.forEach((key, index) => {
    let fernet: Fernet;
    try {
      fernet = createFernet(key, { clock });
    } catch (cause) {
      // The position, never the key: key material does not go into error messages or logs.
      throw new KeyRingError('key_ring_invalid_key', `key ${index + 1} of the ring is not a 32-byte base64url Fernet key`, { cause });
    }
    const id = fernetKeyId(key);
    if (members.some((member) => member.id === id)) {
      throw new KeyRingError('key_ring_duplicate_key', `key ${index + 1} of the ring repeats an earlier key`);
    }
    members.push({ id, fernet });
  });
  const primary = members[0]!;

  function open(token: string, options?: FernetDecryptOptions) {
    let last: unknown;
    for (const member of members) {
      try {
        return { plaintext: member.fernet.decrypt(token, options), keyId: member.id };
      } catch (error) {
        // Only a MAC mismatch means "try the next key"; anything else is the token's own fault.
        if (!(error instanceof FernetError) || error.code !== 'fernet_bad_mac') throw error;
        last = error;
      }
    }
    throw last;
  }

  return {
    primaryKeyId: primary.id,
    keyIds: members.map((member) => member.id),
    encrypt: (plaintext) => primary.fernet.encrypt(plaintext),
    decrypt: (token, options) => open(token, options).plaintext,
    open,
  };
}

/** Reads FACET_EMBEDDING_KEYS: comma-separated Fernet keys, the encrypting key first. */
export function parseKeyRing(envValue: string | undefined, options: { clock?: () => number; variable?: string } = {}): KeyRing {
  const { variable = 'FACET_EMBEDDING_KEYS', ...rest } = options;
  const keys = (envValue ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
  if (keys.length === 0) {
    throw new KeyRingError('key_ring_empty', `${variable} is empty: set it to one or more comma-separated Fernet keys (generate one with generateFernetKey())`);
  }
  try {
    return createKeyRing(keys, rest);
  } catch (error) {
    if (error instanceof KeyRingError) throw new KeyRingError(error.code, `${variable}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Boot check: every sample token (e.g. a few stored face templates per tenant) must open with the
 * ring. Fails with one clear message rather than letting each face login fail later.
 */
export function assertRingDecrypts(
  ring: KeyRing,
  sampleTokens: Iterable<string>,
  { variable = 'FACET_EMBEDDING_KEYS', what = 'face templates', rekey = 'facet keys rekey' }: { variable?: string; what?: string; rekey?: string } = {},
): void {
  let total = 0;
  let failed = 0;
  let firstCause: unknown;
  for (const token of sampleTokens) {
    total += 1;
    try {
      ring.decrypt(token);
    } catch (error) {
      failed += 1;
      firstCause ??= error;
    }
  }
  if (failed > 0) {
    throw new KeyRingError(
      'key_ring_cannot_decrypt',
      `${variable} cannot decrypt ${failed} of ${total} sampled ${what}: the key that encrypted them is not in the ring. ` +
        `Put the previous key back after the new first key, run \`${rekey}\`, and only then remove it.`,
      { cause: firstCause },
    );
  }
}
