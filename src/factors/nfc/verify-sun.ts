// Verifies one SUN message (NTAG 424 DNA Secure Dynamic Messaging, AES mode, NXP AN12196):
// decrypt PICCData with the meta read key, check it is a UID+counter record, derive this tap's
// session keys from the file read key, check SDMMAC in constant time, and only then decrypt the
// file data. Whether the tap is new (counter) and from the right card is acceptCardTap's job.
import { timingSafeEqual } from 'node:crypto';
import { aesCbcDecrypt } from './aes.ts';
import { fromHex, isHex, isHexBlocks, toHex } from './hex.ts';
import { keyBytes, type AesKey } from './keys.ts';
import { isMacInput, MAX_ENC_BLOCKS } from './parse-sun-url.ts';
import { sunFailure, type SunResult, type SunSuccess } from './result.ts';
import { deriveSessionKeys, fileDataIv, sdmMac } from './session-keys.ts';

// PICCDataTag 0xC7: UID mirrored (bit 7), counter mirrored (bit 6), UID length 7 (low nibble).
// We require both, because without the counter a tap cannot be told from its replay.
const PICC_TAG = 0xc7;

export interface VerifySunOptions {
  /** Encrypted PICCData, 32 hex characters. */
  piccData: string;
  /** SDMMAC, 16 hex characters. */
  cmac: string;
  /** SDMENCFileData, whole blocks of hex, if the card mirrors file data. */
  encFileData?: string;
  /** ASCII text the card MACed (default '': MAC input offset equal to MAC offset). */
  macInput?: string;
  /** SDMMetaReadKey (card key that encrypts PICCData). */
  metaReadKey: AesKey;
  /** SDMFileReadKey (card key the session keys are derived from). */
  fileReadKey: AesKey;
}

export function verifySun({ piccData, cmac, encFileData, macInput = '', metaReadKey, fileReadKey }: VerifySunOptions): SunResult {
  const metaKey = keyBytes(metaReadKey, 'metaReadKey');
  const fileKey = keyBytes(fileReadKey, 'fileReadKey');
  if (isHex(piccData, 24)) return sunFailure('unsupported_mode', 'LRP-mode SUN messages are not supported; configure the card for AES');
  if (!isHex(piccData, 16)) return sunFailure('malformed', 'PICC data must be 32 hex characters');
  if (!isHex(cmac, 8)) return sunFailure('malformed', 'SDMMAC must be 16 hex characters');
  if (encFileData !== undefined && !isHexBlocks(encFileData, MAX_ENC_BLOCKS)) {
    return sunFailure('malformed', 'encrypted file data must be whole blocks of hex');
  }
  if (!isMacInput(macInput)) return sunFailure('malformed', 'MAC input must be printable ASCII');

  const picc = aesCbcDecrypt(metaKey, fromHex(piccData));
  if (picc[0] !== PICC_TAG) return sunFailure('bad_picc_tag', 'PICC data does not decrypt to a UID and counter record');
  const uid = picc.subarray(1, 8);
  const counter = picc.readUIntLE(8, 3);

  const keys = deriveSessionKeys(fileKey, uid, counter);
  if (!timingSafeEqual(sdmMac(keys.macKey, macInput), fromHex(cmac))) {
    return sunFailure('bad_mac', 'SDMMAC does not verify');
  }
  const result: SunSuccess = { ok: true, uid: toHex(uid), counter };
  if (encFileData !== undefined) {
    result.fileData = toHex(aesCbcDecrypt(keys.encKey, fromHex(encFileData), fileDataIv(keys.encKey, counter)));
  }
  return result;
}
