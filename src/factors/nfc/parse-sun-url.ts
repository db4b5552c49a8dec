// Splits a tapped URL into its SUN fields. The card computes SDMMAC over the URL text itself
// (from SDMMACInputOffset up to the MAC), so besides the fields we keep that exact text as
// `macInput`, taken raw from the query string rather than re-encoded.
import { isHex, isHexBlocks } from './hex.ts';
import { sunFailure, type SunFailure } from './result.ts';

export interface SunParamNames {
  /** Query parameter holding encrypted PICCData (default 'picc_data'). */
  piccParam?: string;
  /** Query parameter holding SDMMAC (default 'cmac'). */
  macParam?: string;
  /** Query parameter holding SDMENCFileData (default 'enc'). */
  encParam?: string;
}

export interface RawSunFields {
  piccData: string;
  cmac: string;
  enc?: string;
  /** The ASCII text the card MACed; see ParsedSun.macInput for the default. */
  macInput?: string;
}

export interface ParsedSun {
  ok: true;
  piccData: string;
  cmac: string;
  enc?: string;
  /**
   * '' without file data; with file data, the URL text from the start of the enc value up to the
   * start of the MAC value (e.g. `<enc hex>&cmac=`), i.e. a card whose SDMMACInputOffset points at
   * the enc field, as in NXP AN12196. For raw fields without macInput the same text is assumed.
   */
  macInput: string;
}

/** At most this many blocks of SDMENCFileData (256 bytes): more is not a card we configured. */
export const MAX_ENC_BLOCKS = 16;

export function parseSunUrl(
  input: string | URL | RawSunFields,
  { piccParam = 'picc_data', macParam = 'cmac', encParam = 'enc' }: SunParamNames = {},
): ParsedSun | SunFailure {
  if (typeof input === 'object' && !(input instanceof URL)) return checkFields(input, macParam);
  let url: URL;
  try {
    url = input instanceof URL ? input : new URL(input);
  } catch {
    return sunFailure('malformed', 'not an absolute URL');
  }
  const query = url.search.slice(1);
  const found = new Map<string, { value: string; start: number }>();
  let offset = 0;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (name === piccParam || name === macParam || name === encParam) {
      // A repeated field would let the verified value differ from the one some other layer reads.
      if (found.has(name)) return sunFailure('malformed', `parameter ${name} appears more than once`);
      found.set(name, { value: eq === -1 ? '' : part.slice(eq + 1), start: offset + eq + 1 });
    }
    offset += part.length + 1;
  }
  const picc = found.get(piccParam);
  const mac = found.get(macParam);
  const enc = found.get(encParam);
  if (!picc || !mac) return sunFailure('malformed', `URL lacks ${picc ? macParam : piccParam}`);
  if (enc && enc.start > mac.start) return sunFailure('malformed', `${encParam} must come before ${macParam}`);
  const fields: RawSunFields = {
    piccData: picc.value,
    cmac: mac.value,
    ...(enc ? { enc: enc.value, macInput: query.slice(enc.start, mac.start) } : { macInput: '' }),
  };
  return checkFields(fields, macParam);
}

function checkFields({ piccData, cmac, enc, macInput }: RawSunFields, macParam: string): ParsedSun | SunFailure {
  // 16 bytes is AES mode; 24 bytes (PICCRand + ciphertext) is LRP mode, passed on for verifySun to name.
  if (!isHex(piccData, 16) && !isHex(piccData, 24)) return sunFailure('malformed', 'PICC data must be 32 (AES) or 48 (LRP) hex characters');
  if (!isHex(cmac, 8)) return sunFailure('malformed', 'SDMMAC must be 16 hex characters');
  if (enc !== undefined && !isHexBlocks(enc, MAX_ENC_BLOCKS)) {
    return sunFailure('malformed', `encrypted file data must be 1 to ${MAX_ENC_BLOCKS} blocks of 32 hex characters`);
  }
  if (macInput !== undefined && !isMacInput(macInput)) return sunFailure('malformed', 'MAC input must be printable ASCII');
  return {
    ok: true,
    piccData,
    cmac,
    ...(enc !== undefined ? { enc } : {}),
    macInput: macInput ?? (enc !== undefined ? `${enc}&${macParam}=` : ''),
  };
}

export function isMacInput(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 1024 && /^[\x20-\x7e]*$/.test(value);
}
