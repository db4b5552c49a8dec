// Ceremonies return a result instead of throwing for expected failures, so the caller can write
// the audit event in the same transaction that also keeps the challenge consumed.
export type PasskeyFailureCode =
  | 'challenge_missing'
  | 'challenge_expired'
  | 'unknown_credential'
  | 'account_unavailable'
  | 'user_handle_mismatch'
  | 'origin_mismatch'
  | 'rp_id_mismatch'
  | 'challenge_mismatch'
  | 'user_verification_required'
  | 'counter_regression'
  | 'attestation_refused'
  | 'already_registered'
  | 'invalid_response'
  /** The account's passkey factor is locked (src/lockout): refused before the signature is checked. */
  | 'locked';

export interface PasskeyFailure {
  ok: false;
  code: PasskeyFailureCode;
  /** Internal detail for logs and the audit trail; never shown to the user. */
  detail: string;
  userId?: string;
  credentialId?: string;
}

export function failure(code: PasskeyFailureCode, detail: string, extra: { userId?: string; credentialId?: string } = {}): PasskeyFailure {
  return { ok: false, code, detail, ...extra };
}
