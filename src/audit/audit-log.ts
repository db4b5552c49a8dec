// The tenant's audit trail: append-only (the tenant role may only INSERT and SELECT) and hash-
// chained by a database trigger, so any edit or deletion breaks the chain at a nameable row.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';
import type { AuditData, AuditEventType } from './catalogue.ts';

/** The columns every event has besides its type and data. */
export interface AuditEventFacts {
  actor?: string | null;
  subject?: string | null;
  clientId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** An event of one catalogued type (src/audit/catalogue.ts): an undeclared type does not compile. */
export type AuditEvent<T extends AuditEventType = AuditEventType> = T extends AuditEventType ? AuditEventFacts & { type: T; data?: AuditData<T> } : never;

export async function appendAudit<T extends AuditEventType>(trx: TenantDb, event: AuditEvent<T>): Promise<void> {
  await trx
    .insertInto('audit_events')
    .values({
      type: event.type,
      actor: event.actor ?? null,
      subject: event.subject ?? null,
      client_id: event.clientId ?? null,
      ip: event.ip ?? null,
      user_agent: event.userAgent ?? null,
      request_id: event.requestId ?? null,
      data: JSON.stringify(event.data ?? {}),
      // Filled by the chain trigger; present here only to satisfy NOT NULL before it runs.
      prev_hash: '',
      hash: '',
    })
    .execute();
}

export type ChainVerdict = { ok: true; rows: number } | { ok: false; rows: number; firstBrokenId: string; reason: string };

/**
 * The hash the first remaining row links to after retention removed older rows: the newest
 * retention checkpoint's (a signed checkpoint of the last removed row), or null (nothing removed).
 */
export async function retentionAnchor(trx: TenantDb): Promise<{ eventId: string; hash: string } | null> {
  const { rows } = await sql<{ event_id: string; event_hash: string }>`
    select c.event_id::text as event_id, c.event_hash from audit_checkpoints c where c.reason = 'retention' order by c.seq desc limit 1`.execute(trx);
  return rows[0] ? { eventId: rows[0].event_id, hash: rows[0].event_hash } : null;
}

/** Walks the chain in id order, in batches, and names the first row that does not fit. */
export async function verifyAuditChain(trx: TenantDb, { batchSize = 1000 }: { batchSize?: number } = {}): Promise<ChainVerdict> {
  // After retention, the chain continues from the signed checkpoint of the last removed row.
  const anchor = await retentionAnchor(trx);
  let expectedPrev = anchor?.hash ?? '0'.repeat(64);
  let afterId = anchor?.eventId ?? '0';
  let rows = 0;
  for (;;) {
    const batch = await sql<{ id: string; prev_hash: string; hash: string; recomputed: string }>`
      select e.id::text as id, e.prev_hash, e.hash,
             encode(sha256(convert_to(e.prev_hash || audit_event_digest_input(e), 'UTF8')), 'hex') as recomputed
      from audit_events e where e.id > ${afterId}::bigint order by e.id limit ${batchSize}`.execute(trx);
    for (const row of batch.rows) {
      rows += 1;
      if (row.prev_hash !== expectedPrev) {
        return { ok: false, rows, firstBrokenId: row.id, reason: 'prev_hash does not match the previous row (a row was removed or reordered)' };
      }
      if (row.hash !== row.recomputed) {
        return { ok: false, rows, firstBrokenId: row.id, reason: 'hash does not match the row contents (the row was altered)' };
      }
      expectedPrev = row.hash;
      afterId = row.id;
    }
    if (batch.rows.length < batchSize) return { ok: true, rows };
  }
}
