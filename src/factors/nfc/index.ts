export { parseSunUrl, type ParsedSun, type RawSunFields, type SunParamNames } from './parse-sun-url.ts';
export { verifySun, type VerifySunOptions } from './verify-sun.ts';
export { verifyPlainSun, type VerifyPlainSunOptions } from './verify-plain-sun.ts';
export { acceptCardTap, type AcceptCardTapOptions, type CardTapDecision } from './accept-card-tap.ts';
export { generateSunUrl, type GenerateSunUrlOptions } from './generate-sun-url.ts';
export { NfcKeyError, type AesKey } from './keys.ts';
export type { SunFailure, SunFailureReason, SunResult, SunSuccess } from './result.ts';
export { deriveCardKeys, deriveTagKey, deriveUndiversifiedKey } from './derive-keys.ts';
