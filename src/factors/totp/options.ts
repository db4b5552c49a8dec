// TOTP parameters shared by enrollment and verification. The defaults are what every mainstream
// authenticator app understands (RFC 6238 with SHA-1, 6 digits, 30 s); changing them per tenant
// risks apps that silently ignore the otpauth parameters and show wrong codes.
import { FacetError } from '../../errors/facet-error.ts';
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpParameters {
  /** Code length, 6 (default) or 8. */
  digits?: 6 | 8;
  /** Time step in seconds (default 30). */
  period?: number;
  /** HMAC hash (default 'sha1'). */
  algorithm?: TotpAlgorithm;
}

export const TOTP_DEFAULTS = { digits: 6, period: 30, algorithm: 'sha1' } as const satisfies Required<TotpParameters>;

/** A TOTP configuration problem on our side (bad stored secret, unsupported parameters), not user input. */
export class TotpConfigError extends FacetError {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TotpConfigError';
    this.code = code;
  }
}

export function checkParameters({ digits, period, algorithm }: Required<TotpParameters>): void {
  if (digits !== 6 && digits !== 8) throw new TotpConfigError('totp_bad_digits', 'TOTP codes must have 6 or 8 digits');
  if (!Number.isSafeInteger(period) || period < 15 || period > 300) {
    throw new TotpConfigError('totp_bad_period', 'TOTP period must be an integer between 15 and 300 seconds');
  }
  if (algorithm !== 'sha1' && algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new TotpConfigError('totp_bad_algorithm', 'TOTP algorithm must be sha1, sha256 or sha512');
  }
}
