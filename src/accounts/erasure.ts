// Erasure (GDPR art. 17): the one place allowed to remove a user row for real. Everything that
// references the user goes first; the audit trail keeps an `account.erased` event (it never had a
// foreign key to users, so it survives).
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { deleteRecordsOf } from '../oidc/records.ts';

/** Tables with a foreign key to users, removed before the user row. */
const DEPENDENTS = ['face_vectors', 'face_templates', 'webauthn_credentials', 'recovery_codes', 'totp_factors', 'nfc_cards', 'session_factors'];

export async function eraseUser(trx: TenantDb, userId: string, { actor }: { actor: string }): Promise<boolean> {
  const exists = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
  if (!exists) return false;
  const present = new Set(
    (await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema()`.execute(trx)).rows.map((r) => r.table_name),
  );
  for (const table of DEPENDENTS) {
    if (present.has(table)) await sql`delete from ${sql.table(table)} where user_id = ${userId}`.execute(trx);
  }
  await deleteRecordsOf(trx, userId);
  await trx.deleteFrom('users').where('id', '=', userId).execute();
  await appendAudit(trx, { type: 'account.erased', actor, subject: userId });
  return true;
}
