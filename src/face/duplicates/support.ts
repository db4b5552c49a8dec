// Is pgvector usable for this tenant? The extension must be offered by the server, installed, and
// the tenant's duplicate tables must exist (migration 0101 creates them only where it was offered).
import { sql } from 'kysely';
import type { TenantKysely } from '../../db/tenant-scope.ts';

export type VectorSupport =
  | { enabled: true; schema: string }
  | { enabled: false; reason: string };

export const PGVECTOR_MISSING =
  'duplicate-enrolment detection is disabled: this PostgreSQL server does not offer the pgvector extension ' +
  "(no 'vector' in pg_available_extensions). Install pgvector on the server (e.g. the postgresql-15-pgvector package), " +
  'then enable it for each tenant with enableDuplicateDetection().';

export async function detectVectorSupport(db: TenantKysely): Promise<VectorSupport> {
  const available = await sql`select 1 from pg_available_extensions where name = 'vector'`.execute(db);
  if (available.rows.length === 0) return { enabled: false, reason: PGVECTOR_MISSING };
  const { rows } = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector'`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) {
    return { enabled: false, reason: 'duplicate-enrolment detection is disabled: pgvector is available but not installed; run enableDuplicateDetection() for the tenant.' };
  }
  const table = await sql<{ ok: string | null }>`select to_regclass('face_vectors')::text as ok`.execute(db);
  if (!table.rows[0]?.ok) {
    return { enabled: false, reason: "duplicate-enrolment detection is disabled for this tenant: its face_vectors table is missing; run enableDuplicateDetection() for the tenant." };
  }
  return { enabled: true, schema };
}
