// The console's server-side sessions (backend-for-frontend): the browser holds only a random
// cookie (HttpOnly, SameSite=Strict, path /t/<slug>/console); the row, keyed by a hash of it, holds
// who signed in, with which acr/amr and when (auth_time, for step-up freshness), the CSRF token the
// page echoes on writes, and the ID token the sign-in returned. Access tokens are not kept: the
// console calls the admin API in-process with this session.
import { createHash, randomBytes } from 'node:crypto';
import type { TenantDb } from '../db/tenant-scope.ts';

/** A console session lives a working day at most; sensitive actions also need a step-up ≤ 5 min old. */
export const CONSOLE_SESSION_TTL_SECONDS = 8 * 3600;
/** How recent a step-up to the tenant's admin acr must be for a sensitive action. */
export const STEP_UP_MAX_AGE_SECONDS = 300;
export const CONSOLE_COOKIE = 'facet_console';
export const CONSOLE_LOGIN_COOKIE = 'facet_console_login';

const hash = (token: string) => createHash('sha256').update(`facet-console-session:${token}`).digest('hex');

export interface ConsoleSession {
  idHash: string;
  userId: string;
  acr: string;
  amr: string[];
  /** Epoch seconds. */
  authTime: number;
  csrf: string;
  idToken: string | null;
  expiresAt: Date;
}

export async function openConsoleSession(
  trx: TenantDb,
  { userId, acr, amr, authTime, idToken, now = new Date() }: { userId: string; acr: string; amr: string[]; authTime: number; idToken: string | null; now?: Date },
): Promise<{ token: string; session: ConsoleSession }> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + CONSOLE_SESSION_TTL_SECONDS * 1000);
  await trx
    .insertInto('console_sessions')
    .values({ id_hash: hash(token), user_id: userId, acr, amr: JSON.stringify(amr), auth_time: new Date(authTime * 1000), csrf, id_token: idToken, expires_at: expiresAt })
    .execute();
  return { token, session: { idHash: hash(token), userId, acr, amr, authTime, csrf, idToken, expiresAt } };
}

/** After a step-up in the same session: the new acr, amr and auth_time (the session keeps its expiry). */
export async function stepUpConsoleSession(trx: TenantDb, idHash: string, { acr, amr, authTime, idToken }: { acr: string; amr: string[]; authTime: number; idToken: string | null }): Promise<void> {
  await trx
    .updateTable('console_sessions')
    .set({ acr, amr: JSON.stringify(amr), auth_time: new Date(authTime * 1000), id_token: idToken })
    .where('id_hash', '=', idHash)
    .execute();
}

export async function findConsoleSession(trx: TenantDb, token: string, now = new Date()): Promise<ConsoleSession | undefined> {
  const row = await trx
    .selectFrom('console_sessions')
    .innerJoin('users', 'users.id', 'console_sessions.user_id')
    .where('users.deleted_at', 'is', null)
    .where('users.status', '=', 'active')
    .where('console_sessions.id_hash', '=', hash(token))
    .where('console_sessions.expires_at', '>', now)
    .select(['console_sessions.id_hash', 'console_sessions.user_id', 'acr', 'amr', 'auth_time', 'csrf', 'id_token', 'expires_at'])
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    acr: row.acr,
    amr: (row.amr as string[]) ?? [],
    authTime: Math.floor(new Date(row.auth_time).getTime() / 1000),
    csrf: row.csrf,
    idToken: row.id_token,
    expiresAt: new Date(row.expires_at),
  };
}

export async function closeConsoleSession(trx: TenantDb, token: string): Promise<boolean> {
  const result = await trx.deleteFrom('console_sessions').where('id_hash', '=', hash(token)).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Ends every console session of a user (signed out everywhere, a role revoked, deleted). */
export async function closeConsoleSessionsOf(trx: TenantDb, userId: string): Promise<number> {
  const result = await trx.deleteFrom('console_sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
