// Card keys (SDMMetaReadKey, SDMFileReadKey) arrive from our own storage as 32 hex characters or
// 16 bytes. A malformed key is a configuration problem on our side, so it throws instead of being
// reported as a bad tap.
import { FacetError } from '../../errors/facet-error.ts';
export type AesKey = string | Uint8Array;

export class NfcKeyError extends FacetError {
  readonly code = 'nfc_bad_key';
  constructor(name: string) {
    super(`${name} must be an AES-128 key: 16 bytes or 32 hex characters`);
    this.name = 'NfcKeyError';
  }
}

export function keyBytes(key: AesKey, name: string): Buffer {
  if (typeof key === 'string') {
    if (!/^[0-9a-fA-F]{32}$/.test(key)) throw new NfcKeyError(name);
    return Buffer.from(key, 'hex');
  }
  if (!(key instanceof Uint8Array) || key.length !== 16) throw new NfcKeyError(name);
  return Buffer.from(key);
}
