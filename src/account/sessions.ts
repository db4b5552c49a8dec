// The account page's own sessions: a random cookie (path /t/<slug>/account, HttpOnly, signed,
// SameSite=Lax, Secure on https) whose SHA-256 is the row key. Kept apart from oidc-provider's
// sessions so the page needs no OIDC client, and "sign out everywhere" can end both.
import { createHash, randomBytes } from 'node:crypto';
import type { TenantDb } from '../db/tenant-scope.ts';
import { ACCOUNT_SESSION_TTL_SECONDS } from '../config/defaults.ts';

const TTL_MS = ACCOUNT_SESSION_TTL_SECONDS * 1000;

/** The row key of a session token (also its key in session_factors, as `account:<key>`). */
export const accountSessionKey = (token: string): string => hash(token);

function hash(token: string): string {
  return createHash('sha256').update(`facet-account-session:${token}`).digest('hex');
}

export async function openAccountSession(trx: TenantDb, { userId, amr, now = new Date() }: { userId: string; amr: string[]; now?: Date }): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await trx
    .insertInto('account_sessions')
    .values({ id_hash: hash(token), user_id: userId, amr: JSON.stringify(amr), expires_at: new Date(now.getTime() + TTL_MS) })
    .execute();
  return token;
}

export async function findAccountSession(trx: TenantDb, token: string, now = new Date()): Promise<{ idHash: string; userId: string } | undefined> {
  const row = await trx.selectFrom('account_sessions').select(['id_hash', 'user_id']).where('id_hash', '=', hash(token)).where('expires_at', '>', now).executeTakeFirst();
  return row ? { idHash: row.id_hash as string, userId: row.user_id as string } : undefined;
}

export async function closeAccountSession(trx: TenantDb, token: string): Promise<void> {
  await trx.deleteFrom('account_sessions').where('id_hash', '=', hash(token)).execute();
}
