// Hooks the family rules into oidc-provider's storage of refresh tokens. oidc-provider's own
// refresh grant (which we keep) finds the presented token, then spends it, then stores its
// successor; each of those three steps lands here, inside the tenant transaction, where the
// family row is locked and the rule in reuse-policy.ts decides.
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import Provider from 'oidc-provider';
import type { TenantDb } from '../../db/tenant-scope.ts';
import { decideRefresh, type FamilyLimits, type FamilyState, type ReuseDecision } from './reuse-policy.ts';
import { adoptToken, advanceWithinGrace, endFamily, lockFamily, recordReuse, spendCurrent } from './families.ts';

export interface RefreshGuardOptions {
  limitsFor(clientId: string): FamilyLimits;
  grantHash(grantId: string): string;
  now: () => number;
  onReuseDetected?(event: { clientId: string; reason: string }): void;
}

export interface RequestFacts {
  clientId: string;
  dpopJkt: string | null;
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

/**
 * Facts about the refresh request being served, or undefined outside a refresh_token grant.
 * Read them before taking a database connection: a pooled connection's callbacks may run in
 * another request's async context.
 */
export async function currentRefreshRequest(): Promise<RequestFacts | undefined> {
  const ctx = (Provider as unknown as { ctx?: any }).ctx;
  if (!ctx?.oidc || ctx.oidc.route !== 'token' || ctx.oidc.params?.grant_type !== 'refresh_token' || !ctx.oidc.client) return undefined;
  let dpopJkt: string | null = null;
  const proof = ctx.get('DPoP');
  if (proof) {
    try {
      dpopJkt = await calculateJwkThumbprint(decodeProtectedHeader(proof).jwk as JWK);
    } catch {
      dpopJkt = 'invalid';
    }
  }
  return { clientId: ctx.oidc.client.clientId, dpopJkt, ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state?.requestId };
}

export function currentRouteName(): string {
  const ctx = (Provider as unknown as { ctx?: any }).ctx;
  return ctx?.oidc?.route ?? 'unknown';
}

export function createRefreshGuard({ limitsFor, grantHash, now, onReuseDetected }: RefreshGuardOptions) {
  async function judge(trx: TenantDb, grantId: string, tokenHash: string, presentedGeneration: number | null, request: RequestFacts) {
    const family = await lockFamily(trx, grantId);
    if (!family) return { decision: { action: 'rotate' } as ReuseDecision, family };
    const at = new Date(now());
    const decision = decideRefresh(family, { tokenHash, clientId: request.clientId, dpopJkt: request.dpopJkt, now: at }, limitsFor(family.clientId));
    if (decision.action === 'revoke_family') {
      await endFamily(trx, { grantId, grantHash: grantHash(grantId), reason: `reuse_detected:${decision.reason}`, now: at });
      await recordReuse(trx, {
        grantId,
        clientId: request.clientId,
        presentedGeneration,
        familyGeneration: family.generation,
        reason: decision.reason,
        ...(request.ip ? { ip: request.ip } : {}),
        ...(request.userAgent ? { userAgent: request.userAgent } : {}),
        ...(request.requestId ? { requestId: request.requestId } : {}),
      });
      onReuseDetected?.({ clientId: request.clientId, reason: decision.reason });
    } else if (decision.action === 'reject') {
      await endFamily(trx, { grantId, grantHash: grantHash(grantId), reason: decision.reason, now: at });
    }
    return { decision, family };
  }

  return {
    /** The rule on a family read without its lock (the fast path, src/oidc/refresh/rotation.ts). */
    decide(family: FamilyState, tokenHash: string, request: RequestFacts): ReuseDecision {
      return decideRefresh(family, { tokenHash, clientId: request.clientId, dpopJkt: request.dpopJkt, now: new Date(now()) }, limitsFor(family.clientId));
    },

    /** Locks the family and applies the rule: ends the family (and audits a reuse) when it says so. */
    judge,

    /**
     * A stored refresh token was found. During a refresh grant, decides whether it may be used:
     * returns 'hide' (answer as if not found), 'unconsumed' (a grace retry) or 'as-is'.
     */
    async onFind(trx: TenantDb, payload: { grantId?: string; rotations?: number }, tokenHash: string, request: RequestFacts | undefined): Promise<'hide' | 'unconsumed' | 'as-is'> {
      if (!request || !payload.grantId) return 'as-is';
      const { decision } = await judge(trx, payload.grantId, tokenHash, payload.rotations ?? 0, request);
      if (decision.action === 'rotate') return 'as-is';
      if (decision.action === 'grace_rotate') return 'unconsumed';
      return 'hide';
    },

    /**
     * The grant is spending the token. Atomic under the family lock. Returns 'refuse' when the
     * token lost a race or the family was just ended; the caller throws after the transaction
     * commits, so a revocation decided here is kept.
     */
    async onConsume(
      trx: TenantDb,
      grantId: string | undefined,
      tokenHash: string,
      rotations: number | null,
      request: RequestFacts | undefined,
    ): Promise<'spent' | 'refuse' | 'plain'> {
      if (!request || !grantId) return 'plain';
      const { decision, family } = await judge(trx, grantId, tokenHash, rotations, request);
      if (!family) return 'plain';
      const at = new Date(now());
      if (decision.action === 'rotate') {
        await spendCurrent(trx, grantId, tokenHash, at);
        return 'spent';
      }
      if (decision.action === 'grace_rotate') {
        await advanceWithinGrace(trx, grantId, at);
        return 'spent';
      }
      return 'refuse';
    },

    async onStore(trx: TenantDb, payload: { grantId?: string; clientId?: string; accountId?: string; sessionUid?: string; jkt?: string }, tokenHash: string) {
      if (!payload.grantId || !payload.clientId) return;
      await adoptToken(
        trx,
        {
          grantId: payload.grantId,
          grantHash: grantHash(payload.grantId),
          clientId: payload.clientId,
          accountId: payload.accountId ?? null,
          sessionUid: payload.sessionUid ?? null,
          jkt: payload.jkt ?? null,
          tokenHash,
        },
        new Date(now()),
      );
    },

    /** oidc-provider revoked the grant (revocation endpoint, logout, grant revoked): the family ends. */
    async onGrantRevoked(trx: TenantDb, grantId: string, reason: string): Promise<void> {
      await trx
        .updateTable('refresh_families')
        .set({ ended_at: new Date(now()), end_reason: reason, current_hash: null })
        .where('grant_id', '=', grantId)
        .where('ended_at', 'is', null)
        .execute();
    },
  };
}

export type RefreshGuard = ReturnType<typeof createRefreshGuard>;
