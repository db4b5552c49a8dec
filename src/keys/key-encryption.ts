// Private signing keys (token and audit) and console-managed client secrets at rest: AES-256-GCM
// under the installation's key-encryption key (KEK), bound by associated data to the tenant and key
// id so a ciphertext cannot be moved elsewhere.
//
// FACET_KEK is one key, or a ring "<new>,<old>,…" like the Fernet rings: the first key seals, every
// key opens. Rotating it: put a new key first, run `facet keys rekey --purpose kek` (re-seals every
// value the first key did not seal: src/keys/kek-rekey.ts), then drop the old key.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

function kekBytes(kek: string): Buffer {
  const bytes = Buffer.from(kek, 'base64url');
  if (bytes.length !== 32) throw new Error('FACET_KEK must be 32 bytes, base64url-encoded (or a comma-separated list of such keys, the sealing one first)');
  return bytes;
}

/** The keys of FACET_KEK, the sealing key first. */
export function kekRing(kek: string): Buffer[] {
  const keys = kek.split(',').map((k) => k.trim()).filter(Boolean).map(kekBytes);
  if (keys.length === 0) throw new Error('FACET_KEK is empty');
  return keys;
}

/** A short fingerprint of the sealing key (for reports and the keys.rekeyed event; not secret). */
export function kekFingerprint(kek: string): string {
  return `kek-${createHash('sha256').update(kekRing(kek)[0]!).digest('hex').slice(0, 12)}`;
}

export function sealWithKek(kek: string, plaintext: string, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kekRing(kek)[0]!, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

function openWith(key: Buffer, sealed: string, associatedData: string): string | undefined {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== VERSION || !iv || !body || !tag) throw new Error('unrecognised sealed key format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Opens a sealed value with whichever key of the ring sealed it; `index` 0 is the sealing key. */
export function openWithKekRing(kek: string, sealed: string, associatedData: string): { plaintext: string; index: number } {
  const ring = kekRing(kek);
  for (const [index, key] of ring.entries()) {
    const plaintext = openWith(key, sealed, associatedData);
    if (plaintext !== undefined) return { plaintext, index };
  }
  throw new Error(
    ring.length > 1
      ? 'cannot decrypt a sealed key: none of the FACET_KEK keys sealed it (put the key that did back into the list)'
      : 'cannot decrypt a signing key: FACET_KEK differs from the one that sealed it',
  );
}

export function openWithKek(kek: string, sealed: string, associatedData: string): string {
  return openWithKekRing(kek, sealed, associatedData).plaintext;
}
