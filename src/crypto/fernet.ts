// Fernet (https://github.com/fernet/spec): AES-128-CBC + HMAC-SHA256 tokens, written here on
// node:crypto rather than taken from the npm `fernet` package, which is unmaintained and compares
// MACs with a plain string comparison (a timing oracle). Ours verifies the MAC with
// timingSafeEqual before it touches the ciphertext.
//
// Token layout: 0x80 | timestamp (u64 BE seconds) | IV (16) | ciphertext | HMAC-SHA256 (32),
// base64url with padding. Key: 32 bytes base64url, signing key first, encryption key last.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { FacetError } from '../errors/facet-error.ts';

const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC_SIZE = 32;
const BLOCK = 16;
/** Spec: tokens stamped more than this far in the future are refused when a TTL is checked. */
const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 60;

export type FernetErrorCode =
  | 'fernet_invalid_key'
  | 'fernet_invalid_base64'
  | 'fernet_too_short'
  | 'fernet_bad_version'
  | 'fernet_bad_mac'
  | 'fernet_bad_block_size'
  | 'fernet_bad_padding'
  | 'fernet_clock_skew'
  | 'fernet_expired';

export class FernetError extends FacetError {
  readonly code: FernetErrorCode;
  constructor(code: FernetErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FernetError';
    this.code = code;
  }
}

export interface FernetEncryptOptions {
  /** Timestamp to stamp into the token, in milliseconds (default: the Fernet's clock). */
  now?: number;
  /** Only for test vectors: a fixed IV. Production code must leave this unset. */
  iv?: Uint8Array;
}

export interface FernetDecryptOptions {
  /** Refuse tokens older than this many seconds (default: no age limit). */
  ttlSeconds?: number;
  /** Current time in milliseconds (default: the Fernet's clock). */
  now?: number;
  maxClockSkewSeconds?: number;
}

export interface Fernet {
  encrypt(plaintext: Uint8Array, options?: FernetEncryptOptions): string;
  decrypt(token: string, options?: FernetDecryptOptions): Buffer;
  /** The token's timestamp in seconds, after the MAC has been verified. */
  timestamp(token: string): number;
}

export function generateFernetKey(): string {
  return randomBytes(32).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict base64url: Buffer.from silently skips characters it does not know, which would let a mangled token through to the MAC check with a different meaning. */
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

export function decodeFernetKey(key: string): { signingKey: Buffer; encryptionKey: Buffer } {
  const bytes = typeof key === 'string' ? decodeBase64url(key.trim()) : undefined;
  if (!bytes || bytes.length !== 32) {
    throw new FernetError('fernet_invalid_key', 'a Fernet key must be 32 bytes, base64url-encoded');
  }
  return { signingKey: bytes.subarray(0, 16), encryptionKey: bytes.subarray(16) };
}

export function createFernet(key: string, { clock = Date.now }: { clock?: () => number } = {}): Fernet {
  const { signingKey, encryptionKey } = decodeFernetKey(key);

  function mac(data: Uint8Array): Buffer {
    return createHmac('sha256', signingKey).update(data).digest();
  }

  /** Decodes and authenticates; nothing about the ciphertext is looked at before the MAC matches. */
  function open(token: string): Buffer {
    const bytes = typeof token === 'string' ? decodeBase64url(token) : undefined;
    if (!bytes) throw new FernetError('fernet_invalid_base64', 'the token is not valid base64url');
    if (bytes.length < HEADER + MAC_SIZE) throw new FernetError('fernet_too_short', 'the token is too short');
    if (bytes[0] !== VERSION) throw new FernetError('fernet_bad_version', 'the token has an unknown version');
    const body = bytes.subarray(0, bytes.length - MAC_SIZE);
    const expected = mac(body);
    if (!timingSafeEqual(expected, bytes.subarray(bytes.length - MAC_SIZE))) {
      throw new FernetError('fernet_bad_mac', 'the token was not made with this key or was altered');
    }
    return body;
  }

  function timestampOf(body: Buffer): number {
    return Number(body.readBigUInt64BE(1));
  }

  return {
    encrypt(plaintext, { now = clock(), iv = randomBytes(BLOCK) } = {}) {
      if (iv.length !== BLOCK) throw new RangeError('a Fernet IV is 16 bytes');
      const header = Buffer.alloc(HEADER);
      header[0] = VERSION;
      header.writeBigUInt64BE(BigInt(Math.floor(now / 1000)), 1);
      header.set(iv, 9);
      const cipher = createCipheriv('aes-128-cbc', encryptionKey, iv);
      const body = Buffer.concat([header, cipher.update(plaintext), cipher.final()]);
      return Buffer.concat([body, mac(body)]).toString('base64url') + '='.repeat((3 - ((body.length + MAC_SIZE) % 3)) % 3);
    },

    decrypt(token, { ttlSeconds, now = clock(), maxClockSkewSeconds = DEFAULT_MAX_CLOCK_SKEW_SECONDS } = {}) {
      const body = open(token);
      if (ttlSeconds !== undefined) {
        const issued = timestampOf(body);
        const current = Math.floor(now / 1000);
        if (issued > current + maxClockSkewSeconds) {
          throw new FernetError('fernet_clock_skew', 'the token is stamped too far in the future');
        }
        if (issued + ttlSeconds < current) throw new FernetError('fernet_expired', 'the token has expired');
      }
      const ciphertext = body.subarray(HEADER);
      if (ciphertext.length === 0 || ciphertext.length % BLOCK !== 0) {
        throw new FernetError('fernet_bad_block_size', 'the ciphertext is not a whole number of AES blocks');
      }
      const decipher = createDecipheriv('aes-128-cbc', encryptionKey, body.subarray(9, HEADER));
      try {
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      } catch (cause) {
        throw new FernetError('fernet_bad_padding', 'the token decrypts to invalid padding', { cause });
      }
    },

    timestamp(token) {
      return timestampOf(open(token));
    },
  };
}
