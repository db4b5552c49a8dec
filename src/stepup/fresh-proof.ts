// Fresh proof before changing how an account signs in (NIST SP 800-63B: authenticate again before
// binding a new authenticator). Pure: which proofs are accepted for a change, and whether the
// session holds one made recently enough.
//
// | account has (second factors)   | change                         | accepted proofs (≤ 5 min)               |
// |--------------------------------|--------------------------------|-----------------------------------------|
// | none                           | any                            | passkey, recovery_code                  |
// | some                           | any but removing the app       | the strongest of them, recovery_code    |
// | the app, maybe others          | removing the authenticator app | any of its second factors, recovery_code|
//
// "Strongest" here ranks what someone holding only the passkey, or a stolen account-page cookie,
// is least able to produce: an NFC card (AES keys inside the chip), then the authenticator app (a
// shared secret on another device), then a face match (a photo or video can be presented, and
// liveness checks are probabilistic). A recovery code is always accepted: it is how a user whose
// second factor is lost gets back in, and a session that used one is capped (evaluate-step-up.ts).
import type { FactorName, SecondFactor } from '../factors/names.ts';
import type { SessionFactor } from './evaluate-step-up.ts';

export const FRESH_PROOF_SECONDS = 300;

export const PROOF_RANK: readonly SecondFactor[] = ['nfc', 'otp', 'face'];

export interface FactorChange {
  /** The factor being removed, when the change is a removal. */
  removing?: FactorName;
}

/** The proofs accepted before `change`, for an account with `enrolled` factors. */
export function acceptedProofs(enrolled: ReadonlySet<FactorName>, change: FactorChange = {}): FactorName[] {
  const seconds = PROOF_RANK.filter((factor) => enrolled.has(factor));
  if (seconds.length === 0) return ['passkey', 'recovery_code'];
  if (change.removing === 'otp') return [...seconds, 'recovery_code'];
  return [seconds[0]!, 'recovery_code'];
}

/** The most recent accepted proof made within FRESH_PROOF_SECONDS of `now`, if any. */
export function freshProof(proven: readonly SessionFactor[], accepted: readonly FactorName[], now: number): SessionFactor | undefined {
  return proven
    .filter((entry) => accepted.includes(entry.factor) && now - entry.at <= FRESH_PROOF_SECONDS && entry.at <= now + 5)
    .sort((a, b) => b.at - a.at)[0];
}
