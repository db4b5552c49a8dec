// The card's side of SUN, for tests and demos: builds the URL a card with these keys would
// produce for a given UID and counter. Browser tests use it to "tap" without hardware.
import { randomBytes } from 'node:crypto';
import { aesCbcEncrypt } from './aes.ts';
import { toHex } from './hex.ts';
import { keyBytes, type AesKey } from './keys.ts';
import type { SunParamNames } from './parse-sun-url.ts';
import { counterBytes, deriveSessionKeys, fileDataIv, sdmMac } from './session-keys.ts';

export interface GenerateSunUrlOptions extends SunParamNames {
  /** 7-byte UID, hex or bytes. */
  uid: string | Uint8Array;
  /** SDMReadCtr, 0..16777215. */
  counter: number;
  metaReadKey: AesKey;
  fileReadKey: AesKey;
  /** URL the SUN parameters are appended to; may already carry a query, not a fragment. */
  baseUrl: string;
  /** File data to mirror encrypted, whole 16-byte blocks (hex or bytes). */
  fileData?: string | Uint8Array;
  /** Source of the 5 random padding bytes in PICCData (default: crypto random). */
  random?: (size: number) => Uint8Array;
}

export function generateSunUrl({
  uid,
  counter,
  metaReadKey,
  fileReadKey,
  baseUrl,
  fileData,
  random = randomBytes,
  piccParam = 'picc_data',
  macParam = 'cmac',
  encParam = 'enc',
}: GenerateSunUrlOptions): string {
  const uidBytes = typeof uid === 'string' ? Buffer.from(uid, 'hex') : Buffer.from(uid);
  if (uidBytes.length !== 7 || (typeof uid === 'string' && uid.length !== 14)) throw new RangeError('uid must be 7 bytes');
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > 0xffffff) throw new RangeError('counter must fit in 3 bytes');
  if (baseUrl.includes('#')) throw new RangeError('baseUrl must not have a fragment');
  const fileKey = keyBytes(fileReadKey, 'fileReadKey');
  const plain = Buffer.concat([Buffer.from([0xc7]), uidBytes, counterBytes(counter), Buffer.from(random(5))]);
  const piccData = toHex(aesCbcEncrypt(keyBytes(metaReadKey, 'metaReadKey'), plain));
  const keys = deriveSessionKeys(fileKey, uidBytes, counter);

  let query = `${piccParam}=${piccData}&`;
  let macInput = '';
  if (fileData !== undefined) {
    const data = typeof fileData === 'string' ? Buffer.from(fileData, 'hex') : Buffer.from(fileData);
    if (data.length === 0 || data.length % 16 !== 0) throw new RangeError('fileData must be whole 16-byte blocks');
    const enc = toHex(aesCbcEncrypt(keys.encKey, data, fileDataIv(keys.encKey, counter)));
    // Same convention parseSunUrl assumes: the MAC covers the enc value up to the MAC's value.
    macInput = `${enc}&${macParam}=`;
    query += `${encParam}=${macInput}`;
  } else {
    query += `${macParam}=`;
  }
  const separator = baseUrl.includes('?') ? (baseUrl.endsWith('?') || baseUrl.endsWith('&') ? '' : '&') : '?';
  return `${baseUrl}${separator}${query}${toHex(sdmMac(keys.macKey, macInput))}`;
}
