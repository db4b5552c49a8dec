// Audit exports: a background job streams the selected rows, in id order and in batches, to a data
// file (JSON Lines, CSV or OCSF JSON) while hashing it, signs a manifest over what it wrote, and
// packs manifest, data file and the tenant's audit key set into one tar archive. Memory use does
// not depend on the row count: one batch of rows and one write buffer at a time.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { withTenant, type TenantDb, type TenantScope } from '../db/tenant-scope.ts';
import { appendAudit } from './audit-log.ts';
import { createCheckpoint, deliverPendingCheckpoints, type CheckpointSink } from './checkpoints.ts';
import { auditKeySet, auditSigner, MANIFEST_TYP } from './signing.ts';
import { auditFilterSchema, filterConditions, filtersToJson, selectsChainSegment, whereClause, type AuditFilters } from './search.ts';
import { AUDIT_ROW_SELECT, CSV_HEADER, csvRecord, DATA_FILE_NAMES, jsonlLine, ocsfEvent, sha256Hex, toAuditRow, type AuditRow, type ExportFormat } from './rows.ts';
import { tarEnd, tarHeader, tarPadding } from './tar.ts';
import type { RootDb } from '../db/client.ts';

export interface ExportOptions {
  kek: string;
  publicUrl: string;
  dir: string;
  ttlMs: number;
  sinks?: CheckpointSink[];
  batchSize?: number;
  progress?: (value: object) => Promise<void>;
  now?: () => Date;
}

export const keySetUrl = (publicUrl: string, slug: string) => `${publicUrl}/t/${slug}/audit/keys.json`;
export const archivePath = (dir: string, slug: string, id: string) => path.join(dir, slug, `audit-export-${id}.tar`);

/** Records a requested export (status queued) and audits the request. */
export async function requestExport(trx: TenantDb, { format, filters, actor, requestFacts = {} }: { format: ExportFormat; filters: AuditFilters; actor: string; requestFacts?: { ip?: string | null; userAgent?: string | null; requestId?: string | null } }) {
  const id = randomUUID();
  const stored = filtersToJson(filters);
  await sql`insert into audit_exports (id, format, filters, requested_by) values (${id}::uuid, ${format}, ${JSON.stringify(stored)}::jsonb, ${actor})`.execute(trx);
  await appendAudit(trx, { type: 'audit.export_requested', actor, ...requestFacts, data: { export_id: id, format, filters: stored } });
  return id;
}

export interface ExportStatus {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed' | 'expired';
  format: ExportFormat;
  filters: Record<string, unknown>;
  requested_by: string | null;
  rows_total: number | null;
  rows_written: number;
  progress: number | null;
  bytes: number | null;
  sha256: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  expires_at: string | null;
  file_name: string | null;
}

export async function exportStatus(trx: TenantDb, id: string, now = new Date()): Promise<ExportStatus | null> {
  const { rows } = await sql<Record<string, any>>`select * from audit_exports where id = ${id}::uuid`.execute(trx);
  const r = rows[0];
  if (!r) return null;
  const total = r.rows_total === null ? null : Number(r.rows_total);
  const written = Number(r.rows_written);
  const expired = r.status === 'expired' || (r.status === 'done' && r.expires_at && new Date(r.expires_at) <= now);
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    id: r.id,
    status: expired ? 'expired' : r.status,
    format: r.format,
    filters: typeof r.filters === 'string' ? JSON.parse(r.filters) : r.filters,
    requested_by: r.requested_by,
    rows_total: total,
    rows_written: written,
    progress: r.status === 'done' ? 100 : total ? Math.min(99, Math.floor((written / total) * 100)) : total === 0 ? 99 : null,
    bytes: r.bytes === null ? null : Number(r.bytes),
    sha256: r.sha256,
    error: r.error,
    created_at: iso(r.created_at)!,
    finished_at: iso(r.finished_at),
    expires_at: iso(r.expires_at),
    file_name: r.file_name,
  };
}

export async function listExports(trx: TenantDb, { limit = 50 }: { limit?: number } = {}) {
  const { rows } = await sql<{ id: string }>`select id from audit_exports order by created_at desc limit ${limit}`.execute(trx);
  const out: ExportStatus[] = [];
  for (const row of rows) out.push((await exportStatus(trx, row.id))!);
  return out;
}

/** Buffers writes to a file: constant memory, one await per 256 KiB. */
async function bufferedWriter(file: string) {
  const handle = await open(file, 'w');
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await handle.write(chunk);
  };
  return {
    async write(text: string) {
      const chunk = Buffer.from(text, 'utf8');
      hash.update(chunk);
      bytes += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= 256 * 1024) await flush();
    },
    async close() {
      await flush();
      await handle.close();
      return { bytes, sha256: hash.digest('hex') };
    },
  };
}

/** Runs one export to completion (the `audit-export` job). Safe to run again: a done export stays done. */
export async function runExport(db: RootDb, tenant: TenantScope, exportId: string, options: ExportOptions): Promise<{ rows: number; status: string }> {
  const now = options.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 2000;
  const current = await withTenant(db, tenant, (trx) => exportStatus(trx, exportId));
  if (!current) throw new Error(`no export ${exportId} in tenant ${tenant.slug}`);
  if (current.status === 'done' || current.status === 'expired') return { rows: current.rows_written, status: current.status };
  const format = current.format;
  const filters = auditFilterSchema.parse(current.filters);
  const issuer = `${options.publicUrl}/t/${tenant.slug}`;
  const folder = path.join(options.dir, tenant.slug);
  await mkdir(folder, { recursive: true });
  // Delivery is at-least-once: a run may be a retry after a worker died mid-export, or overlap a
  // run whose worker only looked dead. Each run writes its own temporary files, reuses the
  // checkpoint an earlier run made for this export, and only the first run to finish publishes.
  const run = randomUUID();
  const dataTmp = path.join(folder, `.audit-export-${exportId}-${run}.data`);
  const archiveTmp = path.join(folder, `.audit-export-${exportId}-${run}.tar`);
  try {
    // The export's upper bound is a signed checkpoint of the head: the export is a snapshot by id
    // even while others append, and it can be matched against the checkpoint sink.
    const reason = `export ${exportId}`;
    const made = await withTenant(db, tenant, async (trx) => {
      // Overlapping runs take turns here (row lock), so only the first signs a checkpoint.
      await sql`select id from audit_exports where id = ${exportId}::uuid for update`.execute(trx);
      const earlier = (
        await sql<{ seq: string; event_id: string; event_hash: string; jws: string }>`
          select c.seq::text as seq, c.event_id::text as event_id, c.event_hash, c.jws from audit_checkpoints c where c.reason = ${reason} order by c.seq limit 1`.execute(trx)
      ).rows[0];
      if (earlier) return { checkpoint: { seq: Number(earlier.seq), eventId: earlier.event_id, eventHash: earlier.event_hash, jws: earlier.jws, created: false }, keys: null };
      return { checkpoint: await createCheckpoint(trx, { kek: options.kek, slug: tenant.slug, issuer, reason }), keys: await auditKeySet(trx) };
    });
    const checkpoint = made.checkpoint;
    // As checkpointTenant does: the sinks receive a new checkpoint after it committed. A sink that
    // fails does not fail the export: the checkpoint stays pending for it (recorded in the chain)
    // and the export job's bounded retry, then the scheduled audit-checkpoint job, deliver it.
    if (made.keys && options.sinks?.length) await deliverPendingCheckpoints(db, tenant, options.sinks, { final: false });
    const conditions = [...filterConditions(filters), sql`e.id <= ${checkpoint.eventId}::bigint`];
    const total = await withTenant(db, tenant, async (trx) => {
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from audit_events e ${whereClause(conditions)}`.execute(trx);
      const n = Number(rows[0]!.n);
      const { rows: started } = await sql`update audit_exports set status = 'running', rows_total = ${n}, rows_written = 0, error = null where id = ${exportId}::uuid and status not in ('done', 'expired') returning id`.execute(trx);
      return started.length > 0 ? n : null;
    });
    if (total === null) {
      // An overlapping run finished meanwhile.
      const done = await withTenant(db, tenant, (trx) => exportStatus(trx, exportId));
      return { rows: done?.rows_written ?? 0, status: done?.status ?? 'done' };
    }

    const writer = await bufferedWriter(dataTmp);
    if (format === 'csv') await writer.write(`${CSV_HEADER}\r\n`);
    if (format === 'ocsf') await writer.write('[\n');
    let first: AuditRow | null = null;
    let last: AuditRow | null = null;
    let rows = 0;
    let reported = 0;
    // Walk the id range in windows of batchSize ids: each query reads at most one window through
    // the primary key, whatever the planner thinks of the table (a keyset "id > x order by id
    // limit n" can turn into a scan of everything after x when statistics are missing).
    const upper = BigInt(checkpoint.eventId);
    const lowest = await withTenant(db, tenant, async (trx) => (await sql<{ id: string | null }>`select min(e.id)::text as id from audit_events e ${whereClause(conditions)}`.execute(trx)).rows[0]?.id);
    let low = lowest ? BigInt(lowest) - 1n : upper;
    while (low < upper) {
      const high = low + BigInt(batchSize) < upper ? low + BigInt(batchSize) : upper;
      const batch = await withTenant(db, tenant, async (trx) => {
        const { rows: raw } = await sql<Record<string, unknown>>`
          select ${sql.raw(AUDIT_ROW_SELECT)} from audit_events e ${whereClause([...conditions, sql`e.id > ${String(low)}::bigint`, sql`e.id <= ${String(high)}::bigint`])}
          order by e.id`.execute(trx);
        return raw;
      });
      low = high;
      for (const raw of batch) {
        const row = toAuditRow(raw);
        if (format === 'jsonl') await writer.write(`${jsonlLine(row)}\n`);
        else if (format === 'csv') await writer.write(`${csvRecord(row)}\r\n`);
        else await writer.write(`${rows > 0 ? ',\n' : ''}${JSON.stringify(ocsfEvent(row, { tenant: tenant.slug, issuer }))}`);
        first ??= row;
        last = row;
        rows += 1;
      }
      if (batch.length > 0 && (rows - reported >= 5000 || low >= upper)) {
        reported = rows;
        await withTenant(db, tenant, (trx) => sql`update audit_exports set rows_written = ${rows} where id = ${exportId}::uuid`.execute(trx));
        await options.progress?.({ rows, total, percent: total ? Math.floor((rows / total) * 100) : 100 });
      }
    }
    if (format === 'ocsf') await writer.write(rows > 0 ? '\n]\n' : ']\n');
    const data = await writer.close();

    const createdAt = now();
    const complete = selectsChainSegment(filters);
    const manifest = {
      typ: 'facet-audit-export',
      version: 1,
      export_id: exportId,
      tenant: tenant.slug,
      iss: issuer,
      created_at: createdAt.toISOString(),
      format,
      range: { since: filters.since?.toISOString() ?? null, until: filters.until?.toISOString() ?? null, max_event_id: checkpoint.eventId },
      filters: filtersToJson(filters),
      /** True when every event of the range is in the file (no filter but time): chain continuity can be checked. */
      complete,
      rows,
      first_event_id: first?.id ?? null,
      last_event_id: last?.id ?? null,
      first_prev_hash: first?.prev_hash ?? null,
      first_hash: first?.hash ?? null,
      last_hash: last?.hash ?? null,
      checkpoint: { seq: checkpoint.seq, event_id: checkpoint.eventId, event_hash: checkpoint.eventHash, jws_sha256: sha256Hex(checkpoint.jws) },
      file: { name: DATA_FILE_NAMES[format], bytes: data.bytes, sha256: data.sha256 },
      keys_url: keySetUrl(options.publicUrl, tenant.slug),
    };
    const { jws, keys } = await withTenant(db, tenant, async (trx) => {
      const signer = await auditSigner(trx, { kek: options.kek, slug: tenant.slug });
      return { jws: await signer.sign(manifest, MANIFEST_TYP), keys: await auditKeySet(trx) };
    });

    // manifest.jws, the data file, keys.json (a convenience copy: pin the published set instead).
    const mtime = Math.floor(createdAt.getTime() / 1000);
    const archive = await open(archiveTmp, 'w');
    const archiveHash = createHash('sha256');
    const put = async (chunk: Buffer) => {
      archiveHash.update(chunk);
      await archive.write(chunk);
    };
    try {
      const manifestBytes = Buffer.from(`${jws}\n`);
      await put(tarHeader('manifest.jws', manifestBytes.length, mtime));
      await put(manifestBytes);
      await put(tarPadding(manifestBytes.length));
      await put(tarHeader(DATA_FILE_NAMES[format], data.bytes, mtime));
      for await (const chunk of createReadStream(dataTmp, { highWaterMark: 256 * 1024 })) await put(chunk as Buffer);
      await put(tarPadding(data.bytes));
      const keyBytes = Buffer.from(`${JSON.stringify(keys, null, 2)}\n`);
      await put(tarHeader('keys.json', keyBytes.length, mtime));
      await put(keyBytes);
      await put(tarPadding(keyBytes.length));
      await put(tarEnd());
    } finally {
      await archive.close();
    }
    const final = archivePath(options.dir, tenant.slug, exportId);
    const published = await withTenant(db, tenant, async (trx) => {
      // The row lock makes an overlapping run wait here and then find the export done.
      const { rows: locked } = await sql<{ status: string }>`select status from audit_exports where id = ${exportId}::uuid for update`.execute(trx);
      if (locked[0]?.status === 'done' || locked[0]?.status === 'expired') return false;
      await rename(archiveTmp, final);
      const archiveBytes = (await stat(final)).size;
      await sql`
        update audit_exports set status = 'done', rows_written = ${rows}, file_name = ${path.basename(final)}, bytes = ${archiveBytes}, sha256 = ${archiveHash.digest('hex')},
          manifest = ${jws}, finished_at = ${createdAt}, expires_at = ${new Date(createdAt.getTime() + options.ttlMs)}
        where id = ${exportId}::uuid`.execute(trx);
      await appendAudit(trx, { type: 'audit.exported', actor: 'job', data: { export_id: exportId, format, rows, sha256: data.sha256, first_event_id: first?.id ?? null, last_event_id: last?.id ?? null } });
      return true;
    });
    if (!published) {
      const done = await withTenant(db, tenant, (trx) => exportStatus(trx, exportId));
      return { rows: done?.rows_written ?? rows, status: done?.status ?? 'done' };
    }
    await options.progress?.({ rows, total, percent: 100 });
    return { rows, status: 'done' };
  } catch (error) {
    await withTenant(db, tenant, async (trx) => {
      // A failure after another run finished leaves its result alone.
      const { rows: marked } = await sql`update audit_exports set status = 'failed', error = ${(error as Error).message}, finished_at = now() where id = ${exportId}::uuid and status not in ('done', 'expired') returning id`.execute(trx);
      if (marked.length > 0) await appendAudit(trx, { type: 'audit.export_failed', actor: 'job', data: { export_id: exportId, error: (error as Error).message } });
    }).catch(() => {});
    throw error;
  } finally {
    await rm(dataTmp, { force: true });
    await rm(archiveTmp, { force: true });
  }
}

/** A run's temporary files untouched this long belong to a run that died (a worker killed mid-export). */
const ABANDONED_TEMP_MS = 60 * 60_000;

/** Deletes archives past their expiry and marks them expired (the purge job), and temporary files of runs that died. */
export async function purgeExpiredExports(db: RootDb, tenant: TenantScope, dir: string, now = new Date()): Promise<number> {
  const folder = path.join(dir, tenant.slug);
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (!name.startsWith('.audit-export-')) continue;
    const file = path.join(folder, name);
    const modified = await stat(file).then((s) => s.mtimeMs, () => now.getTime());
    if (now.getTime() - modified > ABANDONED_TEMP_MS) await rm(file, { force: true });
  }
  return withTenant(db, tenant, async (trx) => {
    const { rows } = await sql<{ id: string }>`select id from audit_exports where status = 'done' and expires_at <= ${now}`.execute(trx);
    for (const row of rows) {
      await rm(archivePath(dir, tenant.slug, row.id), { force: true });
      await sql`update audit_exports set status = 'expired' where id = ${row.id}::uuid`.execute(trx);
    }
    return rows.length;
  });
}
