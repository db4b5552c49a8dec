// Optional key diversification, compatible with nfc-developer/sdm-backend (libsdm/derive.py, the
// scheme since 2023-01-24; not an NXP standard). A tenant keeps one master key, and each card's
// keys follow from it and the card's UID. Cards can then be provisioned with sdm-backend's tools,
// and a leaked card key exposes only that card.
//   meta read key  = HMAC-SHA256(master, "PICCDataKey")[0..16]   (same for every card: the UID
//                    is still encrypted when this key is needed)
//   tag key #n     = CMAC(HMAC-SHA256(master, "SlotMasterKey" | n)[0..16],
//                         0x01 | HMAC-SHA256(HMAC-SHA256(master, "DivBaseKey"), UID)[0..16])
import { createHmac } from 'node:crypto';
import { aesCmac } from './aes-cmac.ts';
import { isHex, toHex } from './hex.ts';
import { keyBytes, NfcKeyError, type AesKey } from './keys.ts';

const hmac = (key: Uint8Array, message: Uint8Array) => createHmac('sha256', key).update(message).digest();
const hmac16 = (key: Uint8Array, message: Uint8Array) => hmac(key, message).subarray(0, 16);

function masterBytes(masterKey: AesKey): Buffer {
  const master = keyBytes(masterKey, 'masterKey');
  // sdm-backend maps an all-zero master key to all-zero card keys (factory state). We refuse it
  // instead, so a forgotten placeholder key can never validate real taps.
  if (master.every((byte) => byte === 0)) throw new NfcKeyError('masterKey (not all zeros)');
  return master;
}

/** The UID-independent key (sdm-backend allows only key #1): used as SDMMetaReadKey. */
export function deriveUndiversifiedKey(masterKey: AesKey): string {
  return toHex(hmac16(masterBytes(masterKey), Buffer.from('PICCDataKey', 'ascii')));
}

/** Card key number `keyNo` for the card with this 7-byte UID. */
export function deriveTagKey(masterKey: AesKey, uid: string, keyNo: number): string {
  if (!isHex(uid, 7)) throw new RangeError('uid must be 14 hex characters');
  if (!Number.isInteger(keyNo) || keyNo < 0 || keyNo > 255) throw new RangeError('keyNo must be a byte');
  const master = masterBytes(masterKey);
  const slotKey = hmac16(master, Buffer.concat([Buffer.from('SlotMasterKey', 'ascii'), Buffer.from([keyNo])]));
  const uidPart = hmac16(hmac(master, Buffer.from('DivBaseKey', 'ascii')), Buffer.from(uid, 'hex'));
  return toHex(aesCmac(slotKey, Buffer.concat([Buffer.from([0x01]), uidPart])));
}

/** The key pair verifySun needs, in sdm-backend's layout: meta read = undiversified, file read = tag key #2. */
export function deriveCardKeys({ masterKey, uid }: { masterKey: AesKey; uid: string }): { metaReadKey: string; fileReadKey: string } {
  return { metaReadKey: deriveUndiversifiedKey(masterKey), fileReadKey: deriveTagKey(masterKey, uid, 2) };
}
