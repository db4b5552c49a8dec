// Outcomes of reading a tap. Failures carry a stable `reason` for code and a `message` for logs
// and pages; neither ever contains key material or the decrypted PICC data.
export type SunFailureReason =
  | 'malformed' // not a SUN message of the expected shape
  | 'unsupported_mode' // a well-formed LRP-mode message; only AES mode is implemented
  | 'bad_picc_tag' // PICCData did not decrypt to a UID+counter record: wrong meta read key or tampering
  | 'bad_mac'; // SDMMAC does not verify: wrong file read key, tampering, or a forged URL

export interface SunFailure {
  ok: false;
  reason: SunFailureReason;
  message: string;
}

export interface SunSuccess {
  ok: true;
  /** 7-byte UID, uppercase hex. */
  uid: string;
  /** SDMReadCtr, 0..16777215; the card increments it on every read. */
  counter: number;
  /** Decrypted SDMENCFileData, uppercase hex, when the message had any. */
  fileData?: string;
}

export type SunResult = SunSuccess | SunFailure;

export const sunFailure = (reason: SunFailureReason, message: string): SunFailure => ({ ok: false, reason, message });
