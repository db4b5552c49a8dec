// Ids of OIDC records (tokens, codes, session cookies …) are bearer secrets. At rest they exist
// only as HMAC-SHA-256 under a server key; the few kinds that must be found by another key
// (sessions by uid, device codes by user code) also keep their id sealed with AES-GCM.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface RecordIdCodec {
  hash(kind: string, id: string): string;
  seal(id: string): string;
  open(sealed: string): string;
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
    seal(id) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      const body = Buffer.concat([cipher.update(id, 'utf8'), cipher.final()]);
      return `${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
    },
    open(sealed) {
      const [iv, body, tag] = sealed.split('.');
      const decipher = createDecipheriv('aes-256-gcm', sealKey, Buffer.from(iv!, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body!, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
