// Server-side WebAuthn challenges: 32 random bytes, bound to one interaction (or account-page
// visit) and purpose, five minutes, single use. Issuing a new one replaces the old one.
import { randomBytes } from 'node:crypto';
import type { TenantDb } from '../../db/tenant-scope.ts';

export const CHALLENGE_TTL_SECONDS = 300;

export interface IssuedChallenge {
  challenge: string;
  expiresAt: Date;
}

export interface StoredChallenge {
  challenge: string;
  userId: string | null;
  data: Record<string, unknown>;
  expiresAt: Date;
}

export async function issueChallenge(
  trx: TenantDb,
  {
    binding,
    purpose,
    userId = null,
    data = {},
    now = new Date(),
    ttlSeconds = CHALLENGE_TTL_SECONDS,
  }: { binding: string; purpose: 'authentication' | 'registration'; userId?: string | null; data?: Record<string, unknown>; now?: Date; ttlSeconds?: number },
): Promise<IssuedChallenge> {
  const challenge = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  await trx
    .insertInto('webauthn_challenges')
    .values({ binding, purpose, challenge, user_id: userId, data: JSON.stringify(data), expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['binding', 'purpose']).doUpdateSet({ challenge, user_id: userId, data: JSON.stringify(data), expires_at: expiresAt }))
    .execute();
  return { challenge, expiresAt };
}

/**
 * Takes the challenge out of the store (DELETE … RETURNING: of two concurrent requests only one
 * gets it). Expired ones are removed too, and reported as such.
 */
export async function consumeChallenge(
  trx: TenantDb,
  { binding, purpose, now = new Date() }: { binding: string; purpose: 'authentication' | 'registration'; now?: Date },
): Promise<TakenChallenge> {
  const row = await trx
    .deleteFrom('webauthn_challenges')
    .where('binding', '=', binding)
    .where('purpose', '=', purpose)
    .returning(['challenge', 'user_id', 'data', 'expires_at'])
    .executeTakeFirst();
  return takenChallenge(row, now);
}

export type TakenChallenge = { ok: true; stored: StoredChallenge } | { ok: false; code: 'challenge_missing' | 'challenge_expired' };

/** What a DELETE … RETURNING of the challenge gave (no row: there was none), judged at `now`. */
export function takenChallenge(row: { challenge: string; user_id: string | null; data: unknown; expires_at: string | Date } | undefined, now: Date): TakenChallenge {
  if (!row) return { ok: false, code: 'challenge_missing' };
  const expiresAt = new Date(row.expires_at);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, code: 'challenge_expired' };
  const data = typeof row.data === 'string' ? JSON.parse(row.data) : (row.data as Record<string, unknown>);
  return { ok: true, stored: { challenge: row.challenge, userId: row.user_id ?? null, data, expiresAt } };
}

/** Housekeeping: drops challenges past their expiry. */
export async function purgeExpiredChallenges(trx: TenantDb, now = new Date()): Promise<number> {
  const result = await trx.deleteFrom('webauthn_challenges').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
