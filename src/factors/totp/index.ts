export { createTotpEnrollment, type TotpEnrollment, type TotpEnrollmentOptions } from './create-enrollment.ts';
export { verifyTotp, type VerifyTotpOptions, type VerifyTotpResult } from './verify-totp.ts';
export { TotpConfigError, TOTP_DEFAULTS, type TotpAlgorithm, type TotpParameters } from './options.ts';
