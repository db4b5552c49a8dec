// `facet audit verify <archive>`: checks an export offline. The manifest's signature (with the
// tenant's published audit key set), the data file's SHA-256 and size, every row's own chain hash,
// that every line is exactly what the exporter writes for its row, the row count and both ends
// named in the manifest, and — for an export of a whole time range — that each row links to the
// one before. It names the first line that fails. No database, no network unless --jwks is a URL.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { JSONWebKeySet } from 'jose';
import { MANIFEST_TYP, verifyAuditJws } from './signing.ts';
import { CSV_HEADER, csvRecord, DATA_FILE_NAMES, jsonlLine, ocsfEvent, parseCsvRecord, rowFromCsv, rowHash, toAuditRow, type AuditRow, type ExportFormat } from './rows.ts';
import { ArchiveError, readTarEntries } from './tar.ts';

const canonicalJwk = (key: object) => JSON.stringify(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export interface ExportVerdict {
  ok: boolean;
  rows: number;
  /** What failed, first problem first. */
  problems: string[];
  /** The first data-file line that failed, if a line did. */
  firstBadLine: number | null;
  notes: string[];
  manifest: Record<string, any> | null;
}

async function* regionLines(file: string, offset: number, size: number, hash: ReturnType<typeof createHash>): AsyncGenerator<string> {
  if (size === 0) return;
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of createReadStream(file, { start: offset, end: offset + size - 1, highWaterMark: 256 * 1024 })) {
    hash.update(chunk as Buffer);
    carry += decoder.write(chunk as Buffer);
    let newline = carry.indexOf('\n');
    while (newline >= 0) {
      yield carry.slice(0, newline);
      carry = carry.slice(newline + 1);
      newline = carry.indexOf('\n');
    }
  }
  carry += decoder.end();
  // A final piece without a newline (the exporter always ends with one).
  if (carry.length > 0) yield `${carry}\u0000no-newline`;
}

export async function verifyExport(file: string, options: { keys?: JSONWebKeySet } = {}): Promise<ExportVerdict> {
  try {
    return await verifyExportUnguarded(file, options);
  } catch (error) {
    // Whatever a damaged archive does to the parsers, the answer is a rejection, not a crash.
    return { ok: false, rows: 0, problems: [`the archive cannot be read (${(error as Error).message})`], firstBadLine: null, notes: [], manifest: null };
  }
}

async function verifyExportUnguarded(file: string, { keys }: { keys?: JSONWebKeySet } = {}): Promise<ExportVerdict> {
  const problems: string[] = [];
  const notes: string[] = [];
  const verdict = (firstBadLine: number | null = null, rows = 0, manifest: Record<string, any> | null = null): ExportVerdict => ({ ok: problems.length === 0, rows, problems, firstBadLine, notes, manifest });
  const handle = await open(file, 'r');
  let entries;
  const read = async (offset: number, size: number) => {
    const buffer = Buffer.alloc(size);
    await handle.read(buffer, 0, size, offset);
    return buffer;
  };
  let manifestText: string;
  let keysText: string;
  try {
    try {
      entries = await readTarEntries(handle);
    } catch (error) {
      problems.push(error instanceof ArchiveError ? error.message : `the archive cannot be read (${(error as Error).message})`);
      return verdict();
    }
    const names = entries.map((e) => e.name);
    if (names.length !== 3 || names[0] !== 'manifest.jws' || names[2] !== 'keys.json' || !Object.values(DATA_FILE_NAMES).includes(names[1]!)) {
      problems.push(`unexpected archive contents: ${names.join(', ')} (expected manifest.jws, the data file, keys.json)`);
      return verdict();
    }
    manifestText = (await read(entries[0]!.offset, entries[0]!.size)).toString('utf8');
    keysText = (await read(entries[2]!.offset, entries[2]!.size)).toString('utf8');
  } finally {
    await handle.close();
  }

  // keys.json must be exactly what the exporter writes; with a pinned set, it may only hold its keys.
  let archiveKeys: JSONWebKeySet;
  try {
    archiveKeys = JSON.parse(keysText) as JSONWebKeySet;
    if (!Array.isArray(archiveKeys?.keys)) throw new Error('no "keys" array');
    if (`${JSON.stringify(archiveKeys, null, 2)}\n` !== keysText) throw new Error('not in the form Facet writes');
  } catch (error) {
    problems.push(`keys.json was altered (${(error as Error).message})`);
    return verdict();
  }
  if (keys) {
    for (const key of archiveKeys.keys) {
      const pinned = keys.keys.find((k) => k.kid === key.kid);
      if (!pinned || canonicalJwk(pinned) !== canonicalJwk(key)) problems.push(`keys.json holds key ${key.kid ?? '(no kid)'}, which is not in the published key set given with --jwks`);
    }
  } else {
    notes.push('the signature was checked with the key set inside the archive; pass --jwks with the tenant\'s published key set (GET /t/<slug>/audit/keys.json) so the signature proves who made the export');
  }

  if (!manifestText.endsWith('\n') || manifestText.indexOf('\n') !== manifestText.length - 1) {
    problems.push('manifest.jws was altered (not one line)');
    return verdict();
  }
  let manifest: Record<string, any>;
  try {
    manifest = (await verifyAuditJws(manifestText.trim(), keys ?? archiveKeys, MANIFEST_TYP)).payload;
  } catch (error) {
    problems.push(`the manifest signature does not verify: ${(error as Error).message}`);
    return verdict();
  }
  const format = manifest.format as ExportFormat;
  const data = entries[1]!;
  if (DATA_FILE_NAMES[format] !== data.name || manifest.file?.name !== data.name) problems.push(`the data file ${data.name} is not the one the manifest signs (${manifest.file?.name})`);
  if (manifest.file?.bytes !== data.size) problems.push(`the data file has ${data.size} bytes; the manifest signs ${manifest.file?.bytes}`);

  const hash = createHash('sha256');
  const complete = manifest.complete === true;
  if (!complete) notes.push('this export was filtered: each row is shown to be a row of the chain, but the export cannot prove that no matching row was left out');
  const ctx = { tenant: String(manifest.tenant), issuer: String(manifest.iss) };
  let firstBadLine: number | null = null;
  const bad = (line: number, message: string) => {
    if (firstBadLine === null) {
      firstBadLine = line;
      problems.push(`${data.name} line ${line}: ${message}`);
    }
  };
  let rows = 0;
  let previous: AuditRow | null = null;
  let lineNo = 0;
  let pendingCsv: { start: number; text: string } | null = null;
  let ocsfEnded = false;
  const checkRow = (line: number, row: AuditRow, rendered: string, text: string) => {
    if (rendered !== text) return bad(line, 'the line is not what Facet writes for its row (altered)');
    if (rowHash(row) !== row.hash) return bad(line, `event ${row.id}: the row does not match its hash (altered)`);
    if (previous) {
      if (BigInt(row.id) <= BigInt(previous.id)) return bad(line, `event ${row.id} is out of order`);
      if (complete && row.prev_hash !== previous.hash) return bad(line, `event ${row.id} does not link to event ${previous.id} (a row was removed, added or reordered)`);
    } else {
      if (row.id !== manifest.first_event_id || row.hash !== manifest.first_hash || row.prev_hash !== manifest.first_prev_hash) bad(line, `event ${row.id} is not the first event the manifest signs (${manifest.first_event_id})`);
    }
    previous = row;
    rows += 1;
  };
  for await (const raw of regionLines(file, data.offset, data.size, hash)) {
    lineNo += 1;
    if (firstBadLine !== null) continue; // keep hashing; one named line is enough
    if (raw.endsWith('\u0000no-newline')) {
      bad(lineNo, 'the file does not end with a newline (truncated or altered)');
      continue;
    }
    try {
      if (format === 'jsonl') {
        const row = toAuditRow(JSON.parse(raw) as Record<string, unknown>);
        checkRow(lineNo, row, jsonlLine(row), raw);
      } else if (format === 'csv') {
        if (lineNo === 1) {
          if (raw !== `${CSV_HEADER}\r`) bad(1, 'the CSV header was altered');
          continue;
        }
        // A record may span lines (quoted newlines): gather until the quotes balance.
        pendingCsv = pendingCsv ? { start: pendingCsv.start, text: `${pendingCsv.text}\n${raw}` } : { start: lineNo, text: raw };
        if ((pendingCsv.text.match(/"/g)?.length ?? 0) % 2 === 1) continue;
        const record = pendingCsv;
        pendingCsv = null;
        if (!record.text.endsWith('\r')) {
          bad(record.start, 'the record does not end with CRLF (altered)');
          continue;
        }
        const text = record.text.slice(0, -1);
        const row = rowFromCsv(parseCsvRecord(text));
        checkRow(record.start, row, csvRecord(row), text);
      } else {
        if (lineNo === 1) {
          if (raw !== '[') bad(1, 'the OCSF file does not start with "["');
          continue;
        }
        if (raw === ']') {
          ocsfEnded = true;
          continue;
        }
        if (ocsfEnded) {
          bad(lineNo, 'text after the closing "]"');
          continue;
        }
        const withComma = raw.endsWith(',');
        const text = withComma ? raw.slice(0, -1) : raw;
        const event = JSON.parse(text) as { raw_data?: string };
        const row = toAuditRow(JSON.parse(String(event.raw_data)) as Record<string, unknown>);
        checkRow(lineNo, row, JSON.stringify(ocsfEvent(row, ctx)), text);
        if (!withComma && rows !== manifest.rows) bad(lineNo, 'a line without the comma that separates events');
      }
    } catch (error) {
      bad(pendingCsv?.start ?? lineNo, `unreadable (${(error as Error).message})`);
    }
  }
  if (firstBadLine === null && pendingCsv) bad(pendingCsv.start, 'an unterminated quoted field');
  if (firstBadLine === null && format === 'ocsf' && !ocsfEnded) bad(lineNo, 'the OCSF array is not closed');
  const digest = hash.digest('hex');
  if (digest !== manifest.file?.sha256) problems.push(`the data file's SHA-256 is ${digest}; the manifest signs ${manifest.file?.sha256}`);
  if (firstBadLine === null) {
    if (rows !== manifest.rows) problems.push(`the data file has ${rows} rows; the manifest signs ${manifest.rows}`);
    const last = previous as AuditRow | null;
    if ((last?.id ?? null) !== manifest.last_event_id || (last?.hash ?? null) !== manifest.last_hash) problems.push(`the last row is not the last event the manifest signs (${manifest.last_event_id})`);
  }
  return verdict(firstBadLine, rows, manifest);
}

/** Reads a key set from a file path or an http(s) URL. */
export async function loadKeySet(source: string): Promise<JSONWebKeySet> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`${source} answered ${response.status}`);
    text = await response.text();
  } else {
    const { readFile } = await import('node:fs/promises');
    text = await readFile(source, 'utf8');
  }
  const parsed = JSON.parse(text) as JSONWebKeySet;
  if (!Array.isArray(parsed?.keys)) throw new Error(`${source} is not a JWK set ({"keys": [...]})`);
  return parsed;
}
