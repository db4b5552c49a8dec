// The authentication factors step-up reasons about (the one vocabulary, src/factors/names.ts), and
// the amr values (RFC 8176) each produces.
import { FACTOR_NAMES, RECOVERY_CODE_AMR, type FactorName } from '../factors/names.ts';

export const FACTORS = FACTOR_NAMES;
export type Factor = FactorName;

// Order in which missing factors are asked for. The passkey comes first because it says who the
// user is; face comes last because it is the freshest-required factor (minutes) and the most
// intrusive, so it should not expire while the user is still finding their card or app.
export const PROMPT_ORDER: readonly Factor[] = ['passkey', 'otp', 'nfc', 'recovery_code', 'face'];

export const byPromptOrder = (a: Factor, b: Factor) => PROMPT_ORDER.indexOf(a) - PROMPT_ORDER.indexOf(b);

export interface AmrDetail {
  /** Passkeys: true when the credential cannot leave its authenticator (not backup-eligible). */
  deviceBound?: boolean;
  /** Passkeys: true when the authenticator verified the user (PIN or biometric). */
  userVerified?: boolean;
}

/**
 * The amr values (RFC 8176) a completed factor contributes; the caller stores them with the factor
 * in the session. passkey: `hwk` for a device-bound credential, `swk` for a synced one, plus `user`
 * when the user was verified. otp: `otp`. nfc: `sc` (the NTAG 424 DNA is a contactless smart card
 * proving its AES key). face: `face`. recovery_code: the private value RECOVERY_CODE_AMR, never
 * `otp`: a code from a printed list must not read as an authenticator app.
 */
export function amrForFactor(factor: Factor, { deviceBound = false, userVerified = true }: AmrDetail = {}): string[] {
  switch (factor) {
    case 'passkey':
      return [deviceBound ? 'hwk' : 'swk', ...(userVerified ? ['user'] : [])];
    case 'otp':
      return ['otp'];
    case 'recovery_code':
      return [RECOVERY_CODE_AMR];
    case 'nfc':
      return ['sc'];
    case 'face':
      return ['face'];
  }
}
