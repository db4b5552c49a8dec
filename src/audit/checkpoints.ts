// Signed checkpoints: Facet signs the chain head (id, hash, time) together with the previous
// checkpoint's signature, like CloudTrail's digest files. Copies go to a sink outside the
// database (a directory, an HTTP endpoint) as they are made, so a complete rewrite of the chain by
// whoever owns the database is caught by comparing the chain with checkpoints held elsewhere.
import { mkdir, readdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { JSONWebKeySet } from 'jose';
import { withTenant, type TenantDb, type TenantScope } from '../db/tenant-scope.ts';
import { auditKeySet, auditSigner, CHECKPOINT_TYP, verifyAuditJws } from './signing.ts';
import { AUDIT_ROW_SELECT, GENESIS_HASH, rowHash, sha256Hex, toAuditRow } from './rows.ts';
import { appendAudit, retentionAnchor } from './audit-log.ts';
import type { RootDb } from '../db/client.ts';

export interface CheckpointPayload {
  tenant: string;
  iss: string;
  seq: number;
  event_id: string;
  event_hash: string;
  event_at: string | null;
  signed_at: string;
  reason: string;
  /** The previous checkpoint: its seq and the SHA-256 of its JWS (null for the first one). */
  prev: { seq: number; jws_sha256: string } | null;
}

export interface Checkpoint {
  seq: number;
  eventId: string;
  eventHash: string;
  jws: string;
}

export interface CheckpointSink {
  /** Stable name ("dir:/srv/checkpoints", "http://…"): the delivery cursor is kept under it. */
  readonly name: string;
  deliver(tenant: string, checkpoint: Checkpoint & { keys: JSONWebKeySet }): Promise<void>;
}

/** Writes <dir>/<tenant>/checkpoint-<seq>.jws and keys.json (atomically, by rename). */
export function directorySink(dir: string): CheckpointSink {
  return {
    name: `dir:${path.resolve(dir)}`,
    async deliver(tenant, checkpoint) {
      const folder = path.join(dir, tenant);
      await mkdir(folder, { recursive: true });
      const write = async (name: string, text: string) => {
        const tmp = path.join(folder, `.${name}.tmp`);
        await writeFile(tmp, text);
        await rename(tmp, path.join(folder, name));
      };
      await write(`checkpoint-${String(checkpoint.seq).padStart(10, '0')}.jws`, `${checkpoint.jws}\n`);
      await write('keys.json', `${JSON.stringify(checkpoint.keys, null, 2)}\n`);
    },
  };
}

/**
 * POSTs each checkpoint as JSON ({ tenant, seq, event_id, event_hash, jws }), with
 * `Authorization: Bearer <token>` when a token is given (FACET_AUDIT_CHECKPOINT_TOKEN). The token
 * is in no name, message or audit event; the sink's name (its cursor) is the URL alone, so adding a
 * token keeps the cursor.
 */
export function httpSink(url: string, { timeoutMs = 5000, token }: { timeoutMs?: number; token?: string | undefined } = {}): CheckpointSink {
  return {
    name: url,
    async deliver(tenant, checkpoint) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ tenant, seq: checkpoint.seq, event_id: checkpoint.eventId, event_hash: checkpoint.eventHash, jws: checkpoint.jws }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (response.status === 401 || response.status === 403) {
        throw new Error(`checkpoint sink ${url} answered ${response.status}: it refused ${token ? 'the token in FACET_AUDIT_CHECKPOINT_TOKEN' : 'a request without credentials (set FACET_AUDIT_CHECKPOINT_TOKEN)'}`);
      }
      if (!response.ok) throw new Error(`checkpoint sink ${url} answered ${response.status}`);
    },
  };
}

/**
 * Signs the current chain head in the caller's transaction. A scheduled checkpoint with nothing
 * new since the last one is skipped (returns the last one).
 */
export async function createCheckpoint(
  trx: TenantDb,
  { kek, slug, issuer, reason, skipIfUnchanged = false, now = new Date() }: { kek: string; slug: string; issuer: string; reason: string; skipIfUnchanged?: boolean; now?: Date },
): Promise<Checkpoint & { created: boolean }> {
  // Key first (it may append audit.key_created), then the checkpoint lock, then the head.
  const signer = await auditSigner(trx, { kek, slug });
  await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.audit_checkpoints'))`.execute(trx);
  const head = (
    await sql<{ id: string; hash: string; at: string }>`
      select e.id::text as id, e.hash, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at from audit_events e order by e.id desc limit 1`.execute(trx)
  ).rows[0];
  const last = (await sql<{ seq: string; event_id: string; event_hash: string; jws: string }>`
      select c.seq::text as seq, c.event_id::text as event_id, c.event_hash, c.jws from audit_checkpoints c order by c.seq desc limit 1`.execute(trx)).rows[0];
  const eventId = head?.id ?? '0';
  if (skipIfUnchanged && last && last.event_id === eventId) {
    return { seq: Number(last.seq), eventId: last.event_id, eventHash: last.event_hash, jws: last.jws, created: false };
  }
  const seq = last ? Number(last.seq) + 1 : 1;
  const payload: CheckpointPayload = {
    tenant: slug,
    iss: issuer,
    seq,
    event_id: eventId,
    event_hash: head?.hash ?? GENESIS_HASH,
    event_at: head?.at ?? null,
    signed_at: now.toISOString(),
    reason,
    prev: last ? { seq: Number(last.seq), jws_sha256: sha256Hex(last.jws) } : null,
  };
  const jws = await signer.sign(payload as unknown as Record<string, unknown>, CHECKPOINT_TYP);
  await sql`insert into audit_checkpoints (seq, event_id, event_hash, reason, jws) values (${seq}, ${eventId}::bigint, ${payload.event_hash}, ${reason}, ${jws})`.execute(trx);
  return { seq, eventId, eventHash: payload.event_hash, jws, created: true };
}

export interface DeliveryFailure {
  sink: string;
  seq: number;
  /** Consecutive failed attempts of this sink so far. */
  attempt: number;
  error: string;
}

export interface DeliveryReport {
  /** Checkpoints handed to a sink in this call (per sink, counted once each). */
  delivered: number;
  /** Sinks that failed in this call: each keeps the checkpoint it stopped at for the next call. */
  failures: DeliveryFailure[];
}

/** How long a node holds a sink while it delivers one checkpoint (well above the HTTP sink's 5 s timeout). */
export const SINK_LEASE_MS = 60_000;

/**
 * Hands each sink every checkpoint it has not received yet, oldest first, and advances the sink's
 * cursor (audit_checkpoint_sinks) only once the sink accepted one. A sink that fails stops there
 * (order is kept: later checkpoints wait), the failure is recorded in the chain as
 * audit.checkpoint_sink_failed, and the next call starts again from that checkpoint: while the
 * database keeps the checkpoints, none is lost. A sink configured later receives the whole history.
 *
 * No transaction is open while a sink is called (a network call can take its whole timeout): per
 * checkpoint, a short transaction takes the sink by a lease (lease_owner, leased_until; when
 * another node holds an unexpired lease this call leaves the sink to it) and reads what to send;
 * it commits; the sink is called; a second short transaction advances the cursor (or counts the
 * failure) and releases the lease, only if the lease is still this call's. A node that dies
 * mid-delivery holds the sink until the lease runs out; the checkpoint is then delivered again
 * (at least once, as before).
 */
export async function deliverPendingCheckpoints(
  db: RootDb,
  tenant: TenantScope,
  sinks: readonly CheckpointSink[],
  { final = true, limit = 1000, leaseMs = SINK_LEASE_MS }: { final?: boolean; limit?: number; leaseMs?: number } = {},
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, failures: [] };
  const owner = randomUUID();
  for (const sink of sinks) {
    for (let n = 0; n < limit; n += 1) {
      const claim = await withTenant(db, tenant, async (trx) => {
        await sql`insert into audit_checkpoint_sinks (sink) values (${sink.name}) on conflict (sink) do nothing`.execute(trx);
        const cursor = (await sql<{ delivered_seq: string; failures: number }>`
          update audit_checkpoint_sinks set lease_owner = ${owner}, leased_until = now() + make_interval(secs => ${leaseMs / 1000})
          where sink = ${sink.name} and (leased_until is null or leased_until < now())
          returning delivered_seq::text as delivered_seq, failures`.execute(trx)).rows[0];
        if (!cursor) return 'busy' as const;
        const next = (await sql<{ seq: string; event_id: string; event_hash: string; jws: string }>`
          select c.seq::text as seq, c.event_id::text as event_id, c.event_hash, c.jws from audit_checkpoints c where c.seq > ${cursor.delivered_seq}::bigint order by c.seq limit 1`.execute(trx)).rows[0];
        if (!next) {
          await sql`update audit_checkpoint_sinks set lease_owner = null, leased_until = null where sink = ${sink.name} and lease_owner = ${owner}`.execute(trx);
          return 'done' as const;
        }
        const checkpoint = { seq: Number(next.seq), eventId: next.event_id, eventHash: next.event_hash, jws: next.jws };
        return { checkpoint, failures: cursor.failures, keys: await auditKeySet(trx) };
      });
      if (typeof claim === 'string') break;
      const { checkpoint, failures, keys } = claim;
      let error: string | null = null;
      try {
        await sink.deliver(tenant.slug, { ...checkpoint, keys });
      } catch (caught) {
        error = (caught as Error)?.message ?? String(caught);
      }
      const step = await withTenant(db, tenant, async (trx) => {
        if (error !== null) {
          const attempt = failures + 1;
          const held = await sql`update audit_checkpoint_sinks set failures = ${attempt}, last_error = ${error}, last_attempt_at = now(), lease_owner = null, leased_until = null
            where sink = ${sink.name} and lease_owner = ${owner} returning sink`.execute(trx);
          if (held.rows.length === 0) return 'lost' as const;
          await appendAudit(trx, { type: 'audit.checkpoint_sink_failed', actor: 'system', data: { seq: checkpoint.seq, sink: sink.name, attempt, error, final } });
          return { sink: sink.name, seq: checkpoint.seq, attempt, error } satisfies DeliveryFailure;
        }
        const held = await sql`update audit_checkpoint_sinks set delivered_seq = ${checkpoint.seq}, failures = 0, last_error = null, last_attempt_at = now(), delivered_at = now(), lease_owner = null, leased_until = null
          where sink = ${sink.name} and lease_owner = ${owner} returning sink`.execute(trx);
        if (held.rows.length === 0) return 'lost' as const;
        if (failures > 0) await appendAudit(trx, { type: 'audit.checkpoint_delivered', actor: 'system', data: { seq: checkpoint.seq, sink: sink.name, attempts: failures + 1 } });
        return 'delivered' as const;
      });
      if (step === 'delivered') {
        report.delivered += 1;
        continue;
      }
      // 'lost': the lease ran out and another node took the sink; that node carries on.
      if (typeof step === 'object') report.failures.push(step);
      break;
    }
  }
  return report;
}

/** A message naming every failed sink, for a job that must fail (and be retried). */
export function deliveryFailureMessage(tenant: string, failures: readonly DeliveryFailure[]): string {
  return `tenant ${tenant}: checkpoint delivery failed: ${failures.map((f) => `${f.sink} at checkpoint ${f.seq} (attempt ${f.attempt}): ${f.error}`).join('; ')}`;
}

/**
 * Delivery with a bounded retry in this process (exponential back-off), for callers that are not
 * a job with attempts of its own (an export, `facet audit checkpoint`). What still fails stays
 * pending for the next delivery (the scheduled audit-checkpoint job).
 */
export async function deliverWithRetry(
  db: RootDb,
  tenant: TenantScope,
  sinks: readonly CheckpointSink[],
  { attempts = 3, backoffMs = 1000, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) }: { attempts?: number; backoffMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<DeliveryReport> {
  const total: DeliveryReport = { delivered: 0, failures: [] };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const report = await deliverPendingCheckpoints(db, tenant, sinks, { final: attempt === attempts });
    total.delivered += report.delivered;
    total.failures = report.failures;
    if (report.failures.length === 0 || attempt === attempts) return total;
    await sleep(backoffMs * 2 ** (attempt - 1));
  }
  return total;
}

/**
 * Checkpoints a tenant in its own transaction, then (after commit) delivers what the sinks have not
 * received yet. Delivery failures do not throw: they are recorded and returned in `delivery`.
 */
export async function checkpointTenant(
  db: RootDb,
  tenant: TenantScope,
  options: { kek: string; issuer: string; reason: string; skipIfUnchanged?: boolean; sinks?: CheckpointSink[]; final?: boolean },
): Promise<Checkpoint & { created: boolean; delivery: DeliveryReport }> {
  const checkpoint = await withTenant(db, tenant, (trx) => createCheckpoint(trx, { ...options, slug: tenant.slug }));
  const delivery = options.sinks?.length ? await deliverPendingCheckpoints(db, tenant, options.sinks, { final: options.final ?? true }) : { delivered: 0, failures: [] };
  return { ...checkpoint, delivery };
}

export async function listCheckpoints(trx: TenantDb, { limit = 100 }: { limit?: number } = {}) {
  const { rows } = await sql<{ seq: string; event_id: string; event_hash: string; reason: string; jws: string; created_at: Date }>`
    select c.seq::text as seq, c.event_id::text as event_id, c.event_hash, c.reason, c.jws, c.created_at from audit_checkpoints c order by c.seq desc limit ${limit}`.execute(trx);
  return rows.map((r) => ({ seq: Number(r.seq), event_id: r.event_id, event_hash: r.event_hash, reason: r.reason, created_at: new Date(r.created_at).toISOString(), jws: r.jws }));
}

export interface VerifyDbReport {
  ok: boolean;
  rows: number;
  checkpoints: number;
  problems: string[];
  notes: string[];
}

/** Reads checkpoint-*.jws (and keys.json) from a sink directory. */
export async function readCheckpointDir(dir: string): Promise<{ jws: string[]; keys: JSONWebKeySet | null }> {
  const names = (await readdir(dir)).filter((n) => /^checkpoint-\d+\.jws$/.test(n)).sort();
  const jws = await Promise.all(names.map(async (n) => (await readFile(path.join(dir, n), 'utf8')).trim()));
  let keys: JSONWebKeySet | null = null;
  try {
    keys = JSON.parse(await readFile(path.join(dir, 'keys.json'), 'utf8')) as JSONWebKeySet;
  } catch {
    keys = null;
  }
  return { jws, keys };
}

/**
 * Walks the tenant's chain (recomputing every hash in JavaScript, not trusting the database's
 * functions) and checks it against signed checkpoints held outside the database: each must verify
 * with the pinned keys, link to the one before, and name a row the chain still has with that hash.
 */
export async function verifyChainAgainstCheckpoints(
  trx: TenantDb,
  { slug, checkpoints, keys, batchSize = 2000 }: { slug: string; checkpoints: string[]; keys: JSONWebKeySet; batchSize?: number },
): Promise<VerifyDbReport> {
  const problems: string[] = [];
  const notes: string[] = [];
  const expected = new Map<string, { seq: number; hash: string }>();
  let previous: { seq: number; sha: string } | null = null;
  const sorted: Array<{ payload: CheckpointPayload; jws: string }> = [];
  for (const jws of checkpoints) {
    try {
      const { payload } = await verifyAuditJws(jws, keys, CHECKPOINT_TYP);
      sorted.push({ payload: payload as unknown as CheckpointPayload, jws });
    } catch (error) {
      problems.push(`a checkpoint does not verify with the given keys: ${(error as Error).message}`);
    }
  }
  sorted.sort((a, b) => a.payload.seq - b.payload.seq);
  for (const { payload, jws } of sorted) {
    if (payload.tenant !== slug) problems.push(`checkpoint ${payload.seq} is for tenant ${payload.tenant}, not ${slug}`);
    if (previous && payload.seq === previous.seq + 1 && payload.prev?.jws_sha256 !== previous.sha) problems.push(`checkpoint ${payload.seq} does not sign checkpoint ${previous.seq}`);
    if (previous && payload.seq !== previous.seq + 1) notes.push(`checkpoints ${previous.seq + 1}…${payload.seq - 1} are not in the directory`);
    previous = { seq: payload.seq, sha: sha256Hex(jws) };
    if (payload.event_id !== '0') expected.set(payload.event_id, { seq: payload.seq, hash: payload.event_hash });
  }
  // Retention removed the rows up to its signed anchor: the chain continues from there, and
  // checkpoints of removed rows have nothing left to compare.
  const anchor = await retentionAnchor(trx);
  if (anchor) {
    let covered = 0;
    for (const [id] of expected) {
      if (BigInt(id) <= BigInt(anchor.eventId)) {
        expected.delete(id);
        covered += 1;
      }
    }
    notes.push(`events up to ${anchor.eventId} were removed by retention behind a signed checkpoint; ${covered} older checkpoint(s) name removed events`);
  }
  let rows = 0;
  let afterId = anchor?.eventId ?? '0';
  let prevHash = anchor?.hash ?? GENESIS_HASH;
  let brokenAt: string | null = null;
  for (;;) {
    const batch = await sql<Record<string, unknown>>`select ${sql.raw(AUDIT_ROW_SELECT)} from audit_events e where e.id > ${afterId}::bigint order by e.id limit ${batchSize}`.execute(trx);
    for (const raw of batch.rows) {
      const row = toAuditRow(raw);
      rows += 1;
      if (!brokenAt && (row.prev_hash !== prevHash || rowHash(row) !== row.hash)) {
        brokenAt = row.id;
        problems.push(`the chain breaks at event ${row.id} (${row.prev_hash !== prevHash ? 'prev_hash does not match the previous row' : 'hash does not match the row'})`);
      }
      const want = expected.get(row.id);
      if (want) {
        if (want.hash !== row.hash) problems.push(`event ${row.id} has hash ${row.hash.slice(0, 16)}…, but checkpoint ${want.seq} signed ${want.hash.slice(0, 16)}… (the chain was rewritten)`);
        expected.delete(row.id);
      }
      prevHash = row.hash;
      afterId = row.id;
    }
    if (batch.rows.length < batchSize) break;
  }
  for (const [id, want] of expected) problems.push(`checkpoint ${want.seq} signed event ${id}, which the chain no longer has`);
  if (sorted.length === 0) notes.push('no checkpoints given: only the chain\'s internal consistency was checked, which a complete rewrite passes');
  return { ok: problems.length === 0, rows, checkpoints: sorted.length, problems, notes };
}
