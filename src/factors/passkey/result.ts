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

/** Maps a SimpleWebAuthn verification error to our failure codes by its (stable) message. */
export function classifyVerificationError(error: unknown): PasskeyFailureCode {
  const message = error instanceof Error ? error.message : String(error);
  if (/counter value/i.test(message)) return 'counter_regression';
  if (/origin/i.test(message)) return 'origin_mismatch';
  if (/RP ID/i.test(message)) return 'rp_id_mismatch';
  if (/challenge/i.test(message)) return 'challenge_mismatch';
  if (/user verification/i.test(message)) return 'user_verification_required';
  return 'invalid_response';
}
