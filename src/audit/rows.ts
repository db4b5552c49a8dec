// One audit row as auditors see it (exports, the search API), and how its chain hash is computed
// outside the database: the same bytes PostgreSQL hashes in the chain trigger
// (sha256(prev_hash || audit_event_digest_input(row)), where the input is a jsonb value's text).
// No database is needed to check an exported row; this file is what `facet audit verify` runs.
import { createHash } from 'node:crypto';
import { describeAuditType, OCSF_ACTIVITIES, OCSF_CLASSES } from './catalogue.ts';

export interface AuditRow {
  /** bigint as a decimal string. */
  id: string;
  /** The row's time exactly as hashed: UTC, microseconds, 'YYYY-MM-DDTHH:MM:SS.uuuuuuZ'. */
  at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
export const ROW_KEYS = ['id', 'at', 'type', 'actor', 'subject', 'client_id', 'ip', 'user_agent', 'request_id', 'data', 'prev_hash', 'hash'] as const;

/** The SQL select list that yields AuditRow (alias e). */
export const AUDIT_ROW_SELECT = `e.id::text as id, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, e.type, e.actor, e.subject, e.client_id, e.ip, e.user_agent, e.request_id, e.data, e.prev_hash, e.hash`;

/** Normalises a row read from the driver (key order, data parsed). */
export function toAuditRow(raw: Record<string, unknown>): AuditRow {
  return {
    id: String(raw.id),
    at: String(raw.at),
    type: String(raw.type),
    actor: (raw.actor as string | null) ?? null,
    subject: (raw.subject as string | null) ?? null,
    client_id: (raw.client_id as string | null) ?? null,
    ip: (raw.ip as string | null) ?? null,
    user_agent: (raw.user_agent as string | null) ?? null,
    request_id: (raw.request_id as string | null) ?? null,
    data: (typeof raw.data === 'string' ? JSON.parse(raw.data) : (raw.data ?? {})) as Record<string, unknown>,
    prev_hash: String(raw.prev_hash),
    hash: String(raw.hash),
  };
}

// ---- PostgreSQL jsonb text, in JavaScript ----------------------------------------------------

/** A JS number as PostgreSQL's numeric prints it (no exponent). */
function numericText(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a JSON number: ${value}`);
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text === '-0' ? '0' : text;
  const [, sign, lead, fraction = '', exp] = match;
  const digits = lead! + fraction;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** jsonb orders object keys by byte length, then bytes. */
function compareKeys(a: string, b: string): number {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length - bb.length || Buffer.compare(ab, bb);
}

/** value::jsonb::text, for values that came from JSON. */
export function jsonbText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return numericText(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(compareKeys);
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText((value as Record<string, unknown>)[k])}`).join(', ')}}`;
  }
  throw new Error(`not a JSON value: ${typeof value}`);
}

/** audit_event_digest_input(e): the row's fields as one jsonb text (id as a number). */
export function digestInput(row: AuditRow): string {
  if (!/^\d+$/.test(row.id)) throw new Error(`id is not a whole number: ${row.id}`);
  const fields: Array<[string, string]> = [
    ['id', row.id],
    ['at', JSON.stringify(row.at)],
    ['type', JSON.stringify(row.type)],
    ['actor', jsonbText(row.actor)],
    ['subject', jsonbText(row.subject)],
    ['client_id', jsonbText(row.client_id)],
    ['ip', jsonbText(row.ip)],
    ['user_agent', jsonbText(row.user_agent)],
    ['request_id', jsonbText(row.request_id)],
    ['data', jsonbText(row.data)],
  ];
  fields.sort((a, b) => compareKeys(a[0], b[0]));
  return `{${fields.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`;
}

export const sha256Hex = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** The hash the chain trigger gives this row. */
export const rowHash = (row: AuditRow): string => sha256Hex(Buffer.from(row.prev_hash + digestInput(row), 'utf8'));

// ---- the three export formats -----------------------------------------------------------------

export type ExportFormat = 'jsonl' | 'csv' | 'ocsf';
export const EXPORT_FORMATS = ['jsonl', 'csv', 'ocsf'] as const;
export const DATA_FILE_NAMES: Record<ExportFormat, string> = { jsonl: 'events.jsonl', csv: 'events.csv', ocsf: 'events.ocsf.json' };

/** One JSON Lines line (no newline): the row's fields in ROW_KEYS order. */
export const jsonlLine = (row: AuditRow): string => JSON.stringify(Object.fromEntries(ROW_KEYS.map((key) => [key, row[key]])));

export const CSV_HEADER = 'id,at,type,category,outcome,actor,subject,client_id,ip,user_agent,request_id,data,prev_hash,hash';

function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) || value === '' ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV record (RFC 4180; null is an empty field, an empty string is ""). */
export function csvRecord(row: AuditRow): string {
  const entry = describeAuditType(row.type);
  const category = entry ? OCSF_CLASSES[entry.ocsf.classUid].category : null;
  return [row.id, row.at, row.type, category, entry?.outcome ?? null, row.actor, row.subject, row.client_id, row.ip, row.user_agent, row.request_id, JSON.stringify(row.data), row.prev_hash, row.hash]
    .map(csvField)
    .join(',');
}

/** Parses the CSV records of an export file one at a time (fields may hold newlines). */
export function parseCsvRecord(text: string): Array<string | null> {
  const fields: Array<string | null> = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      const raw = text.slice(i, end);
      if (raw.includes('"')) throw new Error('quote inside an unquoted field');
      fields.push(raw === '' ? null : raw);
      i = end;
    }
    if (i === text.length) return fields;
    if (text[i] !== ',') throw new Error('text after a quoted field');
    i += 1;
  }
}

export function rowFromCsv(fields: Array<string | null>): AuditRow {
  if (fields.length !== 14) throw new Error(`expected 14 fields, found ${fields.length}`);
  const [id, at, type, , , actor, subject, client_id, ip, user_agent, request_id, data, prev_hash, hash] = fields;
  return { id: id ?? '', at: at ?? '', type: type ?? '', actor, subject, client_id, ip, user_agent, request_id, data: JSON.parse(data ?? 'null') as Record<string, unknown>, prev_hash: prev_hash ?? '', hash: hash ?? '' };
}

/** The OCSF 1.x event for a row; raw_data carries the Facet row itself, so it stays verifiable. */
export function ocsfEvent(row: AuditRow, { tenant, issuer }: { tenant: string; issuer: string }): Record<string, unknown> {
  const entry = describeAuditType(row.type);
  const classUid = entry?.ocsf.classUid ?? 6003;
  const activityId = entry?.ocsf.activityId ?? 99;
  const cls = OCSF_CLASSES[classUid];
  const statusId = entry?.outcome === 'success' ? 1 : entry?.outcome === 'failure' ? 2 : 99;
  const event: Record<string, unknown> = {
    class_uid: classUid,
    class_name: cls.name,
    category_uid: cls.categoryUid,
    category_name: cls.categoryName,
    activity_id: activityId,
    activity_name: OCSF_ACTIVITIES[classUid][activityId] ?? 'Other',
    type_uid: classUid * 100 + activityId,
    time: Date.parse(row.at),
    severity_id: statusId === 2 ? 3 : 1,
    status_id: statusId,
    status: statusId === 1 ? 'Success' : statusId === 2 ? 'Failure' : 'Other',
    message: entry?.summary ?? row.type,
    metadata: { version: '1.1.0', uid: row.id, event_code: row.type, product: { name: 'Facet', vendor_name: 'Facet' }, tenant_uid: tenant, log_provider: issuer },
  };
  if (row.actor) event.actor = { user: { uid: row.actor } };
  if (row.subject) event.user = { uid: row.subject };
  if (row.ip || row.user_agent) event.src_endpoint = { ...(row.ip ? { ip: row.ip } : {}) };
  if (row.user_agent) event.http_request = { user_agent: row.user_agent, ...(row.request_id ? { uid: row.request_id } : {}) };
  if (row.client_id) event.service = { uid: row.client_id, name: row.client_id };
  event.unmapped = row.data;
  event.raw_data = jsonlLine(row);
  return event;
}
