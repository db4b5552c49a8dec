// Refresh-token families in the tenant schema. Every decision happens under a row lock on the
// family (SELECT … FOR UPDATE), so concurrent refreshes with one token are serialised and the
// family never has two live branches.
import { sql } from 'kysely';
import type { TenantDb } from '../../db/tenant-scope.ts';
import { appendAudit } from '../../audit/audit-log.ts';
import type { FamilyState } from './reuse-policy.ts';

export async function lockFamily(trx: TenantDb, grantId: string): Promise<FamilyState | undefined> {
  const row = await trx.selectFrom('refresh_families').selectAll().where('grant_id', '=', grantId).forUpdate().executeTakeFirst();
  return row ? familyFromRow(row) : undefined;
}

/** A refresh_families row (from kysely, or as JSON from refresh_find) as the rule sees it. */
export function familyFromRow(row: Record<string, any>): FamilyState {
  return {
    clientId: row.client_id,
    jkt: row.jkt,
    currentHash: row.current_hash,
    previousHash: row.previous_hash,
    previousSpentAt: row.previous_spent_at ? new Date(row.previous_spent_at) : null,
    generation: row.generation,
    createdAt: new Date(row.created_at),
    lastUsedAt: new Date(row.last_used_at),
    endedAt: row.ended_at ? new Date(row.ended_at) : null,
  };
}

/** A new refresh token was stored: it becomes the family's live token (creating the family). */
export async function adoptToken(
  trx: TenantDb,
  token: { grantId: string; grantHash?: string; clientId: string; accountId: string | null; sessionUid: string | null; jkt: string | null; tokenHash: string },
  now: Date,
): Promise<void> {
  const family = await lockFamily(trx, token.grantId);
  if (!family) {
    await trx
      .insertInto('refresh_families')
      .values({
        grant_id: token.grantId,
        client_id: token.clientId,
        account_id: token.accountId,
        session_uid: token.sessionUid,
        jkt: token.jkt,
        current_hash: token.tokenHash,
        created_at: now,
        last_used_at: now,
        // Read by refresh_find to fetch the grant with the token (migrations/tenant/0510).
        ...(token.grantHash ? { grant_hash: token.grantHash } : {}),
      })
      .execute();
    return;
  }
  if (family.endedAt) {
    // The family ended while this successor was being issued (a concurrent reuse): it is born dead.
    await trx.deleteFrom('oidc_records').where('kind', '=', 'RefreshToken').where('id_hash', '=', token.tokenHash).execute();
    return;
  }
  if (family.currentHash === token.tokenHash) return;
  // A grace-window retry replaces the successor handed out before: that one stops working.
  if (family.currentHash && family.currentHash !== family.previousHash) {
    await trx.deleteFrom('oidc_records').where('kind', '=', 'RefreshToken').where('id_hash', '=', family.currentHash).execute();
  }
  await trx.updateTable('refresh_families').set({ current_hash: token.tokenHash, last_used_at: now }).where('grant_id', '=', token.grantId).execute();
}

/** The live token was presented: it is spent, and the family's generation advances. */
export async function spendCurrent(trx: TenantDb, grantId: string, tokenHash: string, now: Date): Promise<void> {
  await trx
    .updateTable('refresh_families')
    .set({ previous_hash: tokenHash, previous_spent_at: now, current_hash: null, generation: sql`generation + 1`, last_used_at: now })
    .where('grant_id', '=', grantId)
    .execute();
  await trx
    .updateTable('oidc_records')
    .set({ consumed_at: now })
    .where('kind', '=', 'RefreshToken')
    .where('id_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .execute();
}

/** A retry inside the grace window: another rotation from the same spent token. */
export async function advanceWithinGrace(trx: TenantDb, grantId: string, now: Date): Promise<void> {
  await trx.updateTable('refresh_families').set({ generation: sql`generation + 1`, last_used_at: now }).where('grant_id', '=', grantId).execute();
}

export interface EndFamilyOptions {
  grantId: string;
  /** Keyed hash of the grant's id, to delete the Grant record (omit when the caller removes it). */
  grantHash?: string;
  reason: string;
  now: Date;
}

/**
 * Ends a family: every token of the grant (refresh and access), the grant itself, and the
 * session's pointer to the grant (so the user can sign in again normally; oidc-provider #1086).
 */
export async function endFamily(trx: TenantDb, { grantId, grantHash, reason, now }: EndFamilyOptions): Promise<FamilyState | undefined> {
  const family = await lockFamily(trx, grantId);
  const ended = await trx
    .updateTable('refresh_families')
    .set({ ended_at: now, end_reason: reason, current_hash: null })
    .where('grant_id', '=', grantId)
    .where('ended_at', 'is', null)
    .returning(['client_id', 'session_uid'])
    .executeTakeFirst();
  await trx.deleteFrom('oidc_records').where('grant_id', '=', grantId).execute();
  if (grantHash) await trx.deleteFrom('oidc_records').where('kind', '=', 'Grant').where('id_hash', '=', grantHash).execute();
  if (ended?.session_uid) {
    await trx
      .updateTable('oidc_records')
      .set({ payload: sql`payload #- array['authorizations', ${ended.client_id as string}]` })
      .where('kind', '=', 'Session')
      .where('uid', '=', ended.session_uid as string)
      .execute();
  }
  return family;
}

/** Ends every live family of an account (user soft-delete, "sign out everywhere"). */
export async function endFamiliesForAccount(trx: TenantDb, accountId: string, reason: string, grantHash?: (grantId: string) => string, now = new Date()) {
  const rows = await trx.selectFrom('refresh_families').select('grant_id').where('account_id', '=', accountId).where('ended_at', 'is', null).execute();
  for (const row of rows) {
    const grantId = row.grant_id as string;
    await endFamily(trx, { grantId, ...(grantHash ? { grantHash: grantHash(grantId) } : {}), reason, now });
  }
  return rows.length;
}

export async function recordReuse(
  trx: TenantDb,
  event: { grantId: string; clientId: string; presentedGeneration: number | null; familyGeneration: number; reason: string; ip?: string; userAgent?: string; requestId?: string; accountId?: string | null },
): Promise<void> {
  await appendAudit(trx, {
    type: 'refresh_token.reuse_detected',
    clientId: event.clientId,
    subject: event.accountId ?? null,
    ip: event.ip ?? null,
    userAgent: event.userAgent ?? null,
    requestId: event.requestId ?? null,
    data: {
      grant_id: event.grantId,
      reason: event.reason,
      presented_generation: event.presentedGeneration,
      family_generation: event.familyGeneration,
    },
  });
}
