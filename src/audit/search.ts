// Searching the audit trail: filters, and an opaque cursor that is a keyset on the chain id.
// Chain order is id order and commit order (the chain trigger draws the id under a lock held
// until commit), so a row with a smaller id never appears after a reader has seen a larger one:
// polling with `after` neither skips nor repeats events while others append.
import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import type { TenantDb } from '../db/tenant-scope.ts';
import { FacetError } from '../errors/facet-error.ts';
import { AUDIT_CATEGORIES, AUDIT_OUTCOMES, describeAuditType, OCSF_CLASSES, storedTypesWhere, AUDIT_EVENT_TYPES, LEGACY_AUDIT_TYPES } from './catalogue.ts';
import { AUDIT_ROW_SELECT, toAuditRow, type AuditRow } from './rows.ts';

const KNOWN_TYPES = new Set<string>([...AUDIT_EVENT_TYPES, ...Object.keys(LEGACY_AUDIT_TYPES)]);
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(item).min(1).max(60));
const instant = z.iso.datetime({ offset: true }).transform((v) => new Date(v));

/** The filters shared by search and export (query-string or JSON shaped). */
export const auditFilterSchema = z
  .object({
    since: instant.optional().describe('events at or after this instant (ISO 8601)'),
    until: instant.optional().describe('events before this instant (ISO 8601)'),
    type: list(z.string().refine((t) => KNOWN_TYPES.has(t), { message: 'not an event type of the catalogue (docs/audit.md)' })).optional(),
    category: list(z.enum(AUDIT_CATEGORIES as [string, ...string[]])).optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    subject: z.string().min(1).max(200).optional(),
    actor: z.string().min(1).max(200).optional(),
    client: z.string().min(1).max(200).optional(),
    ip: z.string().min(1).max(64).optional(),
  })
  .strict();
export type AuditFilters = z.infer<typeof auditFilterSchema>;

/** The filters as stored in a manifest or an export row (JSON-safe, no empty keys). */
export function filtersToJson(filters: AuditFilters): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    out[key] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

/** True when the filters select a contiguous stretch of the chain (only a time range, or nothing). */
export const selectsChainSegment = (filters: AuditFilters) => Object.entries(filters).every(([key, value]) => value === undefined || key === 'since' || key === 'until');

/** The WHERE conditions (alias e) for the filters; id bounds are added by the callers. */
export function filterConditions(filters: AuditFilters): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (filters.since) where.push(sql`e.at >= ${filters.since}`);
  if (filters.until) where.push(sql`e.at < ${filters.until}`);
  const typeSets: string[][] = [];
  if (filters.type) typeSets.push(filters.type);
  if (filters.category) {
    const categories = new Set(filters.category);
    typeSets.push(storedTypesWhere((_, entry) => categories.has(OCSF_CLASSES[entry.ocsf.classUid].category)));
  }
  if (filters.outcome) typeSets.push(storedTypesWhere((_, entry) => entry.outcome === filters.outcome));
  for (const types of typeSets) where.push(types.length ? sql`e.type in (${sql.join(types)})` : sql`false`);
  if (filters.subject) where.push(sql`e.subject = ${filters.subject}`);
  if (filters.actor) where.push(sql`e.actor = ${filters.actor}`);
  if (filters.client) where.push(sql`e.client_id = ${filters.client}`);
  if (filters.ip) where.push(sql`e.ip = ${filters.ip}`);
  return where;
}

export const whereClause = (conditions: RawBuilder<unknown>[]) => (conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``);

// ---- cursor -------------------------------------------------------------------------------------

export type Order = 'asc' | 'desc';

/** Binds a cursor to the filters and order it was made for. */
const filterKey = (filters: AuditFilters, order: Order) => createHash('sha256').update(JSON.stringify([order, filtersToJson(filters)])).digest('base64url').slice(0, 12);

export const encodeCursor = (id: string, filters: AuditFilters, order: Order) => Buffer.from(JSON.stringify({ v: 1, id, o: order, f: filterKey(filters, order) })).toString('base64url');

export class CursorError extends FacetError {
  readonly code = 'invalid_cursor';
}

export function decodeCursor(cursor: string, filters: AuditFilters, order: Order): string {
  let parsed: { v?: unknown; id?: unknown; o?: unknown; f?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw new CursorError('the cursor is not one this API issued');
  }
  if (parsed.v !== 1 || typeof parsed.id !== 'string' || !/^\d{1,19}$/.test(parsed.id)) throw new CursorError('the cursor is not one this API issued');
  if (parsed.o !== order || parsed.f !== filterKey(filters, order)) throw new CursorError('the cursor was issued for other filters or another order; repeat the same query with it');
  return parsed.id;
}

// ---- search -------------------------------------------------------------------------------------

export interface SearchPage {
  events: Array<AuditRow & { category: string | null; outcome: string | null }>;
  /** Pass as `after` for the next page; present whenever a next call can return more (asc: always). */
  next: string | null;
}

/**
 * One page. `order=asc` with `after` is the polling mode (Okta's `after`): the returned cursor is
 * always present, and calling again later returns what was appended since. `desc` pages backwards
 * from the newest event and ends with next: null.
 */
export async function searchAudit(trx: TenantDb, { filters, order, limit, after }: { filters: AuditFilters; order: Order; limit: number; after?: string }): Promise<SearchPage> {
  const conditions = filterConditions(filters);
  const afterId = after ? decodeCursor(after, filters, order) : null;
  if (afterId) conditions.push(order === 'asc' ? sql`e.id > ${afterId}::bigint` : sql`e.id < ${afterId}::bigint`);
  const { rows } = await sql<Record<string, unknown>>`
    select ${sql.raw(AUDIT_ROW_SELECT)} from audit_events e ${whereClause(conditions)}
    order by e.id ${sql.raw(order === 'asc' ? 'asc' : 'desc')} limit ${limit + 1}`.execute(trx);
  const more = rows.length > limit;
  const events = rows.slice(0, limit).map((raw) => {
    const row = toAuditRow(raw);
    const entry = describeAuditType(row.type);
    return { ...row, category: entry ? OCSF_CLASSES[entry.ocsf.classUid].category : null, outcome: entry?.outcome ?? null };
  });
  const last = events.at(-1)?.id ?? afterId;
  let next: string | null = null;
  if (order === 'asc') next = encodeCursor(last ?? '0', filters, order);
  else if (more && last) next = encodeCursor(last, filters, order);
  return { events, next };
}

export async function findAuditEvent(trx: TenantDb, id: string) {
  const { rows } = await sql<Record<string, unknown>>`select ${sql.raw(AUDIT_ROW_SELECT)} from audit_events e where e.id = ${id}::bigint`.execute(trx);
  return rows[0] ? toAuditRow(rows[0]) : null;
}
