// The per-account rate limits of the sign-in and sign-up forms: `signin.account` keyed by the
// username typed on the sign-in (username-first) and recovery forms, `signup.account` by the
// username and the e-mail address of a registration. (Per-address limits run in tenant-routes;
// per-factor guessing is the lockout's job.) The limiter normalises and keys the names.
import type { Services } from '../services.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import type { LimitVerdict } from './attempt.ts';

export async function consumeAccountLimits(services: Services, runtime: TenantRuntime, policy: 'signin.account' | 'signup.account', names: Array<string | undefined>): Promise<LimitVerdict> {
  const tenant = { slug: runtime.tenant.slug, settings: runtime.tenant.settings };
  for (const name of new Set(names.filter((n): n is string => Boolean(n?.trim())).map((n) => n.trim().toLowerCase()))) {
    const verdict = await services.limits.consume(policy, name, { tenant });
    if (!verdict.allowed) return verdict;
  }
  return { allowed: true };
}
