// Verifies a SUN message whose UID and counter are mirrored in clear (no PICCData encryption).
// Weaker for privacy (anyone who sees the URL learns the UID) but the MAC still proves the tap;
// supported so cards configured that way can be enrolled.
import { timingSafeEqual } from 'node:crypto';
import { fromHex, isHex } from './hex.ts';
import { keyBytes, type AesKey } from './keys.ts';
import { isMacInput } from './parse-sun-url.ts';
import { sunFailure, type SunResult } from './result.ts';
import { deriveSessionKeys, sdmMac } from './session-keys.ts';

export interface VerifyPlainSunOptions {
  /** Mirrored UID, 14 hex characters. */
  uid: string;
  /** Mirrored SDMReadCtr as the URL shows it: 6 hex characters, most significant first. */
  counter: string;
  cmac: string;
  macInput?: string;
  fileReadKey: AesKey;
}

export function verifyPlainSun({ uid, counter, cmac, macInput = '', fileReadKey }: VerifyPlainSunOptions): SunResult {
  const fileKey = keyBytes(fileReadKey, 'fileReadKey');
  if (!isHex(uid, 7)) return sunFailure('malformed', 'UID must be 14 hex characters');
  if (!isHex(counter, 3)) return sunFailure('malformed', 'counter must be 6 hex characters');
  if (!isHex(cmac, 8)) return sunFailure('malformed', 'SDMMAC must be 16 hex characters');
  if (!isMacInput(macInput)) return sunFailure('malformed', 'MAC input must be printable ASCII');
  const uidBytes = fromHex(uid);
  const value = fromHex(counter).readUIntBE(0, 3);
  const keys = deriveSessionKeys(fileKey, uidBytes, value);
  if (!timingSafeEqual(sdmMac(keys.macKey, macInput), fromHex(cmac))) return sunFailure('bad_mac', 'SDMMAC does not verify');
  return { ok: true, uid: uid.toUpperCase(), counter: value };
}
