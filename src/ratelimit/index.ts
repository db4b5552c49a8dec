// Public surface of the rate-limit module.
export { createRateLimits, type RateLimits, type RateLimitsOptions, type ConsumeResult, type ConsumeAllResult, type LimitCheck, type TenantRef } from './rate-limits.ts';
export { clientIp, parseTrustProxy } from './client-ip.ts';
export { DEFAULT_LIMITS, POLICY_NAMES, mergeLimits, type Limit, type Limits, type LimitOverrides, type PolicyKey, type PolicyName } from './policies.ts';
