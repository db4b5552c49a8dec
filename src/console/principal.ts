// Who calls the admin API through the console: a user of the tenant, signed in through the
// tenant's own OIDC with a passkey, holding roles. Set on ctx.state.consolePrincipal by the console
// bridge (src/console/routes.ts) and only there — never from anything the request carries.
import { strengthOf, type AcrPolicy } from '../stepup/index.ts';
import { ACR } from '../stepup/index.ts';
import type { Role } from '../admin/roles.ts';
import type { TenantSettings } from '../tenancy/tenant-file.ts';
import { STEP_UP_MAX_AGE_SECONDS } from './sessions.ts';

export interface ConsolePrincipal {
  userId: string;
  username: string;
  roles: Role[];
  acr: string;
  amr: string[];
  /** Epoch seconds of the last authentication (sign-in or step-up). */
  authTime: number;
  sessionHash: string;
}

/** The acr a sensitive console action needs (tenant setting `admin_acr`). */
export const DEFAULT_ADMIN_ACR = 'urn:facet:acr:passkey+otp';
/** The acr reading the console needs. */
export const CONSOLE_READ_ACR: string = ACR.passkey;

export function adminAcrOf(settings: Pick<TenantSettings, 'admin_acr'> | undefined): string {
  return settings?.admin_acr || DEFAULT_ADMIN_ACR;
}

/** Whether `have` is at least `need` in the tenant's acr order (an unknown value satisfies nothing). */
export function acrSatisfies(policy: AcrPolicy, have: string, need: string): boolean {
  const needed = policy.values[need];
  const had = policy.values[have];
  // Equal strengths satisfy each other (the vocabulary's total order of assurance).
  return Boolean(needed && had && strengthOf(policy, have) >= 0 && had.strength >= needed.strength);
}

export interface StepUpState {
  adminAcr: string;
  /** Until when (epoch seconds) sensitive actions are allowed without a new step-up; null when not now. */
  freshUntil: number | null;
}

export function stepUpState(principal: Pick<ConsolePrincipal, 'acr' | 'authTime'>, policy: AcrPolicy, settings: Pick<TenantSettings, 'admin_acr'> | undefined, now = Date.now()): StepUpState {
  const adminAcr = adminAcrOf(settings);
  const until = principal.authTime + STEP_UP_MAX_AGE_SECONDS;
  const fresh = acrSatisfies(policy, principal.acr, adminAcr) && until > Math.floor(now / 1000);
  return { adminAcr, freshUntil: fresh ? until : null };
}
