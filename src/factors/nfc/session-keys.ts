// SDM session keys (NXP AN12196, AES mode). Every tap has its own pair, derived from the file read
// key, the UID and the read counter, so a MAC or ciphertext from one tap says nothing about another.
import { aesEcbEncrypt } from './aes.ts';
import { aesCmac } from './aes-cmac.ts';

const SV1_PREFIX = Buffer.from('C33C00010080', 'hex');
const SV2_PREFIX = Buffer.from('3CC300010080', 'hex');

/** The read counter as the card sends it: 3 bytes, least significant first. */
export function counterBytes(counter: number): Buffer {
  const bytes = Buffer.alloc(3);
  bytes.writeUIntLE(counter, 0, 3);
  return bytes;
}

// SV = prefix(6) | UID(7) | counter(3) is exactly one block, so the spec's zero padding is empty.
const sessionVector = (prefix: Buffer, uid: Uint8Array, counter: number) =>
  Buffer.concat([prefix, uid, counterBytes(counter)]);

export interface SessionKeys {
  sv1: Buffer;
  sv2: Buffer;
  /** KSesSDMFileReadENC: decrypts SDMENCFileData. */
  encKey: Buffer;
  /** KSesSDMFileReadMAC: computes SDMMAC. */
  macKey: Buffer;
}

export function deriveSessionKeys(fileReadKey: Buffer, uid: Uint8Array, counter: number): SessionKeys {
  const sv1 = sessionVector(SV1_PREFIX, uid, counter);
  const sv2 = sessionVector(SV2_PREFIX, uid, counter);
  return { sv1, sv2, encKey: aesCmac(fileReadKey, sv1), macKey: aesCmac(fileReadKey, sv2) };
}

/** IV for SDMENCFileData: AES-ECB(KSesSDMFileReadENC, counter | 13 zero bytes). */
export function fileDataIv(encKey: Buffer, counter: number): Buffer {
  return aesEcbEncrypt(encKey, Buffer.concat([counterBytes(counter), Buffer.alloc(13)]));
}

/** SDMMAC: the odd-indexed bytes (1, 3, ..., 15) of the full CMAC, 8 bytes. */
export function sdmMac(macKey: Buffer, macInput: string): Buffer {
  const full = aesCmac(macKey, Buffer.from(macInput, 'ascii'));
  return Buffer.from([1, 3, 5, 7, 9, 11, 13, 15].map((i) => full[i]));
}
