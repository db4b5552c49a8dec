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
