// The rule for a presented refresh token, as a pure function (see README: refresh-token families).
//
// - the family's live token, by its own client (and DPoP key)      → rotate
// - the token it just replaced, again, within the grace window,
//   by the same client and DPoP key (a retry after a lost response) → rotate again; the
//   successor handed out before is revoked, so the family keeps exactly one live token
// - anything else: an older generation, the previous token after the window, another client,
//   another DPoP key                                                 → theft: revoke the family

export interface FamilyState {
  clientId: string;
  jkt: string | null;
  currentHash: string | null;
  previousHash: string | null;
  previousSpentAt: Date | null;
  generation: number;
  createdAt: Date;
  lastUsedAt: Date;
  endedAt: Date | null;
}

export interface Presentation {
  tokenHash: string;
  clientId: string;
  /** Thumbprint of the DPoP proof's key, when the request carried one. */
  dpopJkt: string | null;
  now: Date;
}

export interface FamilyLimits {
  graceSeconds: number;
  idleSeconds: number;
  absoluteSeconds: number;
}

export type ReuseDecision =
  | { action: 'rotate' }
  | { action: 'grace_rotate' }
  | { action: 'reject'; reason: 'family_ended' | 'idle_timeout' | 'absolute_lifetime' }
  | { action: 'revoke_family'; reason: 'other_client' | 'other_dpop_key' | 'reuse_after_grace' | 'old_generation' };

export function decideRefresh(family: FamilyState, presented: Presentation, limits: FamilyLimits): ReuseDecision {
  const now = presented.now.getTime();
  if (family.endedAt) return { action: 'reject', reason: 'family_ended' };
  if (presented.clientId !== family.clientId) return { action: 'revoke_family', reason: 'other_client' };
  if (family.jkt && presented.dpopJkt !== family.jkt) return { action: 'revoke_family', reason: 'other_dpop_key' };
  if (now - family.createdAt.getTime() > limits.absoluteSeconds * 1000) return { action: 'reject', reason: 'absolute_lifetime' };
  if (now - family.lastUsedAt.getTime() > limits.idleSeconds * 1000) return { action: 'reject', reason: 'idle_timeout' };
  if (presented.tokenHash === family.currentHash) return { action: 'rotate' };
  if (presented.tokenHash === family.previousHash && family.previousSpentAt) {
    const age = now - family.previousSpentAt.getTime();
    return age <= limits.graceSeconds * 1000 ? { action: 'grace_rotate' } : { action: 'revoke_family', reason: 'reuse_after_grace' };
  }
  return { action: 'revoke_family', reason: 'old_generation' };
}
