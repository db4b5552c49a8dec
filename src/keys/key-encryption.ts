// Private signing keys at rest: AES-256-GCM under the installation's key-encryption key (KEK),
// bound by associated data to the tenant and key id so a ciphertext cannot be moved elsewhere.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

function kekBytes(kek: string): Buffer {
  const bytes = Buffer.from(kek, 'base64url');
  if (bytes.length !== 32) throw new Error('FACET_KEK must be 32 bytes, base64url-encoded');
  return bytes;
}

export function sealWithKek(kek: string, plaintext: string, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kekBytes(kek), iv);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function openWithKek(kek: string, sealed: string, associatedData: string): string {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== VERSION || !iv || !body || !tag) throw new Error('unrecognised sealed key format');
  const decipher = createDecipheriv('aes-256-gcm', kekBytes(kek), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new Error('cannot decrypt a signing key: FACET_KEK differs from the one that sealed it', { cause });
  }
}
