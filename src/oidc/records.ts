// What Facet does to oidc-provider's stored records by account, outside a request: the only code
// that reads their JSON shapes (every record kind carries `accountId`; tokens and codes also their
// `grantId`). Kept here so an upgrade of oidc-provider that moves a field changes one file.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';

/**
 * Ends every session and grant of an account: its oidc-provider records (sessions, grants, codes,
 * tokens, interactions) and every record issued under one of its grants.
 */
export async function endSessionsAndGrantsOf(trx: TenantDb, accountId: string): Promise<{ sessions: number; records: number }> {
  const grantIds = (
    await trx
      .selectFrom('oidc_records')
      .select('grant_id')
      .distinct()
      .where('grant_id', 'is not', null)
      .where(sql`payload->>'accountId'`, '=', accountId)
      .execute()
  ).map((r) => r.grant_id as string);
  const sessions = await trx.deleteFrom('oidc_records').where('kind', '=', 'Session').where(sql`payload->>'accountId'`, '=', accountId).executeTakeFirst();
  const records = await trx
    .deleteFrom('oidc_records')
    .where((eb) => eb.or([eb(sql`payload->>'accountId'`, '=', accountId), ...(grantIds.length > 0 ? [eb('grant_id', 'in', grantIds)] : [])]))
    .executeTakeFirst();
  return { sessions: Number(sessions.numDeletedRows), records: Number(records.numDeletedRows) };
}

/** Erasure: every record that names the account. */
export async function deleteRecordsOf(trx: TenantDb, accountId: string): Promise<void> {
  await sql`delete from oidc_records where payload->>'accountId' = ${accountId}`.execute(trx);
}

/** An account's signed-in oidc-provider sessions (the account page's "Devices and sessions"). */
export interface AccountSession {
  uid: string;
  /** When the login happened (epoch seconds), if recorded. */
  loginTs: number | undefined;
  /** Clients the session has signed in to. */
  clientIds: string[];
  expiresAt: Date | null;
}

export async function sessionsOf(trx: TenantDb, accountId: string, now = new Date()): Promise<AccountSession[]> {
  const rows = await trx
    .selectFrom('oidc_records')
    .select(['uid', 'payload', 'expires_at'])
    .where('kind', '=', 'Session')
    .where(sql`payload->>'accountId'`, '=', accountId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return rows
    .filter((row) => typeof row.uid === 'string')
    .map((row) => {
      const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as { loginTs?: number; authorizations?: Record<string, unknown> };
      return { uid: row.uid as string, loginTs: payload.loginTs, clientIds: Object.keys(payload.authorizations ?? {}), expiresAt: row.expires_at };
    })
    .sort((a, b) => (b.loginTs ?? 0) - (a.loginTs ?? 0));
}

/** Signs one session of the account out (the browser holding it must sign in again). */
export async function endSessionOf(trx: TenantDb, accountId: string, uid: string): Promise<boolean> {
  const ended = await trx.deleteFrom('oidc_records').where('kind', '=', 'Session').where('uid', '=', uid).where(sql`payload->>'accountId'`, '=', accountId).executeTakeFirst();
  return Number(ended.numDeletedRows) > 0;
}

/** Revokes one client's access: its grants of the account and every record issued under them. */
export async function endGrantsOfClient(trx: TenantDb, accountId: string, clientId: string): Promise<number> {
  const grantIds = (
    await trx
      .selectFrom('oidc_records')
      .select('grant_id')
      .distinct()
      .where('grant_id', 'is not', null)
      .where(sql`payload->>'accountId'`, '=', accountId)
      .where(sql`payload->>'clientId'`, '=', clientId)
      .execute()
  ).map((r) => r.grant_id as string);
  const deleted = await trx
    .deleteFrom('oidc_records')
    .where((eb) =>
      eb.or([
        eb.and([eb(sql`payload->>'accountId'`, '=', accountId), eb(sql`payload->>'clientId'`, '=', clientId), eb('kind', '!=', 'Session')]),
        ...(grantIds.length > 0 ? [eb('grant_id', 'in', grantIds)] : []),
      ]),
    )
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
