// The one factor vocabulary. Every place that names a factor (lockout keys, audit event names,
// metric labels, the admin API's enums, session factors, amr mapping) uses these names and no
// others; test/core/factor-vocabulary.test.ts fails on any other spelling.
export const FACTOR_NAMES = ['passkey', 'otp', 'nfc', 'face', 'recovery_code'] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];

/** The factors that prove something beyond the passkey (recovery codes are not one: they only recover). */
export const SECOND_FACTORS = ['otp', 'nfc', 'face'] as const satisfies readonly FactorName[];
export type SecondFactor = (typeof SECOND_FACTORS)[number];

export const isFactorName = (value: unknown): value is FactorName => typeof value === 'string' && (FACTOR_NAMES as readonly string[]).includes(value);

/**
 * The amr value a recovery code contributes. RFC 8176 has no value for a single-use code from a
 * printed list ("otp" would let it pass for an authenticator app), so Facet uses a private,
 * collision-resistant value (docs/step-up.md).
 */
export const RECOVERY_CODE_AMR = 'urn:facet:amr:recovery_code';
