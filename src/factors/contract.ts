// The factor contract: what every authentication factor offers the attempt pipeline
// (src/interaction/attempt.ts). No Koa, no views: a factor answers "is it enrolled", checks one
// attempt inside the caller's tenant transaction, and says which amr values a success proves.
// Failures carry a stable reason code; pages turn codes into words.
import type { TenantDb } from '../db/tenant-scope.ts';
import type { FactorName } from './names.ts';
import type { FactorFailedEvent, FactorVerifiedEvent } from '../audit/catalogue.ts';

export type Verification =
  | { ok: true; amr: string[]; data: Record<string, unknown> }
  /** counts: whether the failure counts towards the factor's lockout (an unenrolled factor does not). */
  | { ok: false; reason: string; counts: boolean; data?: Record<string, unknown> };

export interface Factor<Input> {
  readonly name: FactorName;
  /** Audit event types for this factor's attempts (each contains the factor's name). */
  readonly audit: { verified: FactorVerifiedEvent; failed: FactorFailedEvent };
  enrolled(trx: TenantDb, userId: string): Promise<boolean>;
  /** Checks one attempt; a success consumes what it used (a code, a tap counter). */
  verify(trx: TenantDb, attempt: { userId: string; input: Input; now: Date }): Promise<Verification>;
}
