// Ids of OIDC records (tokens, codes, session cookies …) are bearer secrets. At rest they exist
// only as HMAC-SHA-256 under a server key; the few kinds that must be found by another key
// (sessions by uid, device codes by user code) also keep their id sealed with AES-GCM, and so do
// payload fields that hold a secret (src/oidc/adapter.ts). A seal may be bound to a context
// (AES-GCM additional data): it then opens only with the same context, i.e. in the same record.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface RecordIdCodec {
  hash(kind: string, id: string): string;
  seal(plain: string, context?: string): string;
  /** Throws when the seal was made under another key or context, or was altered. */
  open(sealed: string, context?: string): string;
}

export function createRecordIdCodec(secret: string): RecordIdCodec {
  const ikm = Buffer.from(secret, 'base64url');
  if (ikm.length < 32) throw new Error('FACET_TOKEN_HASH_KEY must be at least 32 bytes, base64url-encoded');
  const macKey = Buffer.from(hkdfSync('sha256', ikm, '', 'facet/record-id/hmac', 32));
  const sealKey = Buffer.from(hkdfSync('sha256', ikm, '', 'facet/record-id/seal', 32));
  return {
    hash(kind, id) {
      return createHmac('sha256', macKey).update(kind).update('\0').update(id).digest('base64url');
    },
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
    },
    open(sealed, context) {
      const [iv, body, tag] = sealed.split('.');
      if (!iv || body === undefined || !tag) throw new Error('not a sealed value');
      // A full 16-byte tag only: a truncated tag would be accepted otherwise.
      const decipher = createDecipheriv('aes-256-gcm', sealKey, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
