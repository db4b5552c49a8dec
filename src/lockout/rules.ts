// Lockout rules per factor. Pure: no database, no clock of its own.
//
// NIST SP 800-63B rev 4 asks verifiers to limit consecutive failed attempts on one account to at
// most 100, and for biometrics: after 5 consecutive failures (10 when presentation-attack
// detection is in place) wait at least 30 seconds before each further attempt, and disable the
// biometric after 50 (100 with PAD), offering another factor instead.
export interface LockoutRule {
  /** Consecutive failures allowed before the first wait. */
  threshold: number;
  /** The first wait, in seconds; each further failure doubles it. */
  baseDelaySeconds: number;
  /** Upper bound for one wait, in seconds. */
  maxDelaySeconds: number;
  /** Consecutive failures after which the factor is disabled until an administrator unlocks it; null = never. */
  disableAfter: number | null;
}

import type { FactorName } from '../factors/names.ts';

/** Rules by factor name (src/factors/names.ts), plus `face+pad` and a `default`. */
export type LockoutRules = Partial<Record<FactorName | 'face+pad' | 'default', LockoutRule>>;

export const BIOMETRIC_FACTORS: ReadonlySet<FactorName> = new Set(['face']);

export const DEFAULT_RULES: Required<LockoutRules> = {
  // One-time codes: 5 free tries, then 30 s, 60 s, 120 s … capped at an hour; off after 100.
  otp: { threshold: 5, baseDelaySeconds: 30, maxDelaySeconds: 3600, disableAfter: 100 },
  // NFC cards (SUN messages): same as TOTP; a failure usually means a replayed or forged tap.
  nfc: { threshold: 5, baseDelaySeconds: 30, maxDelaySeconds: 3600, disableAfter: 100 },
  // Passkey failures are not guesses (the signature either verifies or not), and anyone can make
  // them for any account, so they slow down but never disable.
  passkey: { threshold: 20, baseDelaySeconds: 30, maxDelaySeconds: 300, disableAfter: null },
  // Recovery codes: guessable only by brute force over a large space; same pace as app codes.
  recovery_code: { threshold: 5, baseDelaySeconds: 30, maxDelaySeconds: 3600, disableAfter: 100 },
  // Face without presentation-attack detection.
  face: { threshold: 5, baseDelaySeconds: 30, maxDelaySeconds: 3600, disableAfter: 50 },
  // Face with presentation-attack detection (liveness) on.
  'face+pad': { threshold: 10, baseDelaySeconds: 30, maxDelaySeconds: 3600, disableAfter: 100 },
  // Anything not named above.
  default: { threshold: 5, baseDelaySeconds: 30, maxDelaySeconds: 3600, disableAfter: 100 },
};

export function ruleFor(rules: LockoutRules, factor: FactorName, { pad = false }: { pad?: boolean } = {}): LockoutRule {
  if (factor === 'face' && pad) return rules['face+pad'] ?? rules[factor] ?? rules.default ?? DEFAULT_RULES.default;
  return rules[factor] ?? rules.default ?? DEFAULT_RULES.default;
}

export interface LockDecision {
  /** When the next attempt may be made; undefined = now. */
  lockedUntil?: Date;
  /** Back-off step used (0-based), for the audit trail. */
  level: number;
  disabled: boolean;
}

/** What `failures` consecutive failures (this one included) mean at time `now`. */
export function decide(rule: LockoutRule, failures: number, now: Date): LockDecision {
  if (rule.disableAfter !== null && failures >= rule.disableAfter) return { level: failures - rule.threshold, disabled: true };
  if (failures < rule.threshold) return { level: 0, disabled: false };
  const level = failures - rule.threshold;
  // 2^level overflows to Infinity long before it matters; min() keeps the wait bounded.
  const seconds = Math.min(rule.baseDelaySeconds * 2 ** Math.min(level, 40), rule.maxDelaySeconds);
  return { lockedUntil: new Date(now.getTime() + seconds * 1000), level, disabled: false };
}
