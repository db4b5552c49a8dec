// Audit retention (issue 13): rows older than the tenant's retention (settings.audit_retention_days,
// default 400) are removed in id order, only behind a signed checkpoint of the last removed row,
// so verification continues from that checkpoint; the removal itself is an audit event. It runs
// as the schema owner (the tenant role has no DELETE privilege), inside a transaction that sets
// facet.audit_retention = 'on', the one thing the append-only guard lets through.
import { sql } from 'kysely';
import type { RootDb } from '../db/client.ts';
import type { TenantDb, TenantScope } from '../db/tenant-scope.ts';
import { ident } from '../tenancy/names.ts';
import { appendAudit } from './audit-log.ts';
import { AUDIT_RETENTION_DAYS } from '../config/defaults.ts';
import type { TenantSettings } from '../tenancy/tenant-file.ts';
export { retentionAnchor } from './audit-log.ts';
import { auditSigner, CHECKPOINT_TYP } from './signing.ts';
import { sha256Hex } from './rows.ts';
import type { CheckpointPayload } from './checkpoints.ts';

/** src/config/defaults.ts */
export const DEFAULT_AUDIT_RETENTION_DAYS = AUDIT_RETENTION_DAYS;

/** The tenant's retention in days (typed tenant settings; a stored row that no longer parses falls back to the default). */
export function retentionDaysOf(settings: Pick<TenantSettings, 'audit_retention_days'> | undefined): number {
  const days = settings?.audit_retention_days;
  return typeof days === 'number' && Number.isInteger(days) && days >= 1 ? days : DEFAULT_AUDIT_RETENTION_DAYS;
}

export interface RetentionResult {
  removed: number;
  throughEventId: string | null;
  checkpointSeq: number | null;
}

/**
 * Removes the tenant's rows older than `days` (never the newest row: the chain's head stays, so
 * the next append links to it). One transaction: sign a checkpoint of the last row to remove,
 * delete every row up to it, append `audit.retention_removed`.
 */
export async function applyRetention(
  db: RootDb,
  tenant: TenantScope & { settings?: Pick<TenantSettings, 'audit_retention_days'> },
  { kek, issuer, days = retentionDaysOf(tenant.settings), now = new Date() }: { kek: string; issuer: string; days?: number; now?: Date },
): Promise<RetentionResult> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  return db.transaction().execute(async (owner) => {
    await sql.raw(`set local search_path to ${ident(tenant.schema)}`).execute(owner);
    const trx = owner as unknown as TenantDb;
    // Appends wait while rows are removed; the checkpoint lock keeps checkpoints in order.
    await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.audit_events'))`.execute(trx);
    const last = (
      await sql<{ id: string; hash: string; at: string }>`
        select e.id::text as id, e.hash, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at from audit_events e
        where e.at < ${cutoff} and e.id < (select max(h.id) from audit_events h)
        order by e.id desc limit 1`.execute(trx)
    ).rows[0];
    if (!last) return { removed: 0, throughEventId: null, checkpointSeq: null };

    const signer = await auditSigner(trx, { kek, slug: tenant.slug });
    await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.audit_checkpoints'))`.execute(trx);
    const previous = (await sql<{ seq: string; jws: string }>`select c.seq::text as seq, c.jws from audit_checkpoints c order by c.seq desc limit 1`.execute(trx)).rows[0];
    const seq = previous ? Number(previous.seq) + 1 : 1;
    const payload: CheckpointPayload = {
      tenant: tenant.slug,
      iss: issuer,
      seq,
      event_id: last.id,
      event_hash: last.hash,
      event_at: last.at,
      signed_at: now.toISOString(),
      reason: 'retention',
      prev: previous ? { seq: Number(previous.seq), jws_sha256: sha256Hex(previous.jws) } : null,
    };
    const jws = await signer.sign(payload as unknown as Record<string, unknown>, CHECKPOINT_TYP);
    await sql`insert into audit_checkpoints (seq, event_id, event_hash, reason, jws) values (${seq}, ${last.id}::bigint, ${last.hash}, 'retention', ${jws})`.execute(trx);

    await sql`select set_config('facet.audit_retention', 'on', true)`.execute(trx);
    const removed = await sql`delete from audit_events where id <= ${last.id}::bigint`.execute(trx);
    await sql`select set_config('facet.audit_retention', 'off', true)`.execute(trx);
    const count = Number(removed.numAffectedRows ?? 0);
    await appendAudit(trx, { type: 'audit.retention_removed', actor: 'job', data: { through_event_id: last.id, rows: count, cutoff: cutoff.toISOString(), retention_days: days, checkpoint_seq: seq } });
    return { removed: count, throughEventId: last.id, checkpointSeq: seq };
  });
}
