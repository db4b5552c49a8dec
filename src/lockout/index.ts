// Public surface of the lockout module.
export { checkLock, recordFailure, recordSuccess, unlock, disableFactor, purgeFailedAttempts, type LockState, type FailureInput, type LockoutAuditEvent } from './lockout.ts';
export { recentFailedAttempts, suspiciousActivity, lockedAccounts, countLockedUsers, type FailedAttemptRow, type SuspiciousActivity, type LockedFactorRow } from './admin-queries.ts';
export { DEFAULT_RULES, BIOMETRIC_FACTORS, decide, ruleFor, type LockoutRule, type LockoutRules } from './rules.ts';
