// The refresh grant in one round trip (issue 16; tenant migrations 0510_refresh_rotation,
// 0540_refresh_one_round_trip and 0541_refresh_apply_batch).
//
// oidc-provider's refresh grant reads the presented token, its grant and its account, then
// spends the token and stores a successor and an access token. Within one token request this
// module turns that into:
//   1. the read: what this node kept when it applied the family's previous rotation (the
//      successor's record, the family row as refresh_apply returned it, the grant and the account
//      with their row versions) — no round trip; or, when it kept nothing (first refresh of a
//      family here, another node rotated it, evicted), `refresh_find`: one read, no transaction of
//      our own, no lock. The family rule (reuse-policy.ts) decides on what was read; a plain
//      rotation or a grace retry goes on, anything else falls back to the locked path (guard.ts).
//   2. nothing while oidc-provider works: spending, storing and the audit event are collected;
//   3. `refresh_apply` at the end of the request, before the answer is written: one round trip
//      and one commit that locks the family, checks it is still at the generation and token the
//      decision was taken on and that the grant and account rows are the ones read (a kept read
//      may be old), and applies everything. When another request moved the family in between,
//      nothing was written; the decision is taken again under the row lock (guard.judge) and
//      applied (a grace retry) or the request is refused (reuse: the family ends). Rotations of the
//      tenant that become ready while a previous call is in flight are sent together, as one
//      `refresh_apply_batch` (0541): one round trip and one commit for all of them. When the grant,
//      the token or the account was removed or disabled, nothing is written and the request is
//      refused (invalid_grant); when one was only changed, nothing is written and the request is
//      answered 503 temporarily_unavailable (the token still works: a retry reads afresh).
// No client ever holds a token that is not durable: the answer leaves after the commit.
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type RawBuilder } from 'kysely';
import { openedRequestTransaction, withTenant, type TenantScope } from '../../db/tenant-scope.ts';
import { classifyDatabaseError } from '../../db/errors.ts';
import type { AuditEvent } from '../../audit/audit-log.ts';
import { familyFromRow } from './families.ts';
import type { RefreshGuard, RequestFacts } from './guard.ts';
import type { RootDb } from '../../db/client.ts';

/** One oidc_records row as the adapter writes it (payload as JSON text). */
export interface RecordRow {
  kind: string;
  id_hash: string;
  payload: string;
  grant_id: string | null;
  user_code_hash: string | null;
  uid: string | null;
  expires_at: Date | null;
}

type Json = Record<string, unknown>;

interface Rotation {
  grantId: string;
  grantHash: string;
  presented: string;
  /** The presented token's `rotations` (its generation, for the audit of a reuse). */
  rotations: number;
  /** The family generation the decision was taken on. */
  generation: number;
  grace: boolean;
  request: RequestFacts;
  /** Read with the token: the grant's payload (null: not there), the live account's row (null: none). */
  grant: Json | null | undefined;
  account: { id: string; row: Json | null } | undefined;
  /** The xmin of the grant and account rows read (checked by refresh_apply). */
  grantVersion: string | null;
  accountVersion: string | null;
  consumed: boolean;
  successor?: string;
  records: RecordRow[];
  audit?: AuditEvent;
}

interface RequestState {
  rotation?: Rotation;
}

/** What a node keeps of a rotation it applied, to serve the next one of that family without a read. */
interface Kept {
  payload: Json;
  expiresAt: number | null;
  family: Json;
  grant: Json;
  grantVersion: string;
  account: { id: string; row: Json } | undefined;
  accountVersion: string | null;
}

/** Kept rotations per tenant (one entry per family this node rotated last, ~1.6 KB of JSON each; oldest evicted first). */
export const KEPT_ROTATIONS = 256;

export type ApplyOutcome = 'applied' | 'moved' | 'gone' | 'stale';
type ApplyResult = { outcome: ApplyOutcome; family?: Json };

/** Rotations sent in one refresh_apply_batch at most. */
const MAX_BATCH = 32;

const requests = new AsyncLocalStorage<RequestState>();

/** What the adapter returns for the presented token when the fast path took it. */
export interface FoundToken {
  idHash: string;
  payload: Json;
  /** Unix seconds, or undefined when the token counts as unspent (a grace retry). */
  consumed: number | undefined;
}

export interface RotationDeps {
  db: RootDb;
  scope: TenantScope;
  guard: RefreshGuard;
  grantHash(grantId: string): string;
  now: () => number;
}

export function createRotations({ db, scope, guard, grantHash, now }: RotationDeps) {
  const fn = (name: string) => sql.id(scope.schema, name);
  // Keyed by the successor's hash; an entry is taken out when its token is presented.
  const kept = new Map<string, Kept>();

  /** In the request's transaction when one is already open (never opens one), else on its own. */
  async function send<R>(query: RawBuilder<R>) {
    try {
      const open = openedRequestTransaction(db, scope);
      return await query.execute(open ? await open : db);
    } catch (error) {
      throw classifyDatabaseError(error);
    }
  }

  const apply = (executor: RootDb, rotation: Rotation, generation: number, grace: boolean, at: Date) => applyItem(itemOf(rotation, generation, grace, at), executor);

  // Rotations ready while this tenant's previous refresh_apply is in flight wait for it and then go
  // together in one refresh_apply_batch: one round trip, one commit, one WAL flush (and one turn of
  // the audit chain's lock, which is held until that flush) for all of them (migration 0541).
  // Nothing waits for a timer: alone, a rotation is sent at once.
  type Pending = { item: Json; resolve: (result: ApplyResult) => void; reject: (error: unknown) => void };
  let queue: Pending[] = [];
  let sending = false;

  const itemOf = (rotation: Rotation, generation: number, grace: boolean, at: Date): Json => ({
    grant_id: rotation.grantId,
    grant_hash: rotation.grantHash,
    generation,
    grace,
    presented: rotation.presented,
    successor: rotation.successor ?? null,
    at: at.toISOString(),
    records: rotation.records,
    audit: rotation.audit ? auditRow(rotation.audit) : null,
    grant_version: rotation.grantVersion,
    account_id: rotation.account?.id ?? null,
    account_version: rotation.accountVersion,
  });

  function applyBatched(rotation: Rotation, at: Date): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      queue.push({ item: itemOf(rotation, rotation.generation, rotation.grace, at), resolve, reject });
      if (!sending) void drain();
    });
  }

  async function drain() {
    sending = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, MAX_BATCH);
        queue = queue.slice(batch.length);
        if (batch.length === 1) {
          const [one] = batch;
          await applyItem(one!.item).then(one!.resolve, one!.reject);
          continue;
        }
        let results: ApplyResult[] | undefined;
        try {
          const { rows } = await sql<{ results: ApplyResult[] }>`select ${fn('refresh_apply_batch')}(${scope.role}, ${JSON.stringify(batch.map((p) => p.item))}::jsonb) as results`.execute(db);
          results = rows[0]?.results;
        } catch {
          // One item's error (or a deadlock with another node's batch) failed them all: each alone.
          results = undefined;
        }
        if (results?.length === batch.length) batch.forEach((pending, i) => pending.resolve(results[i]!));
        else for (const pending of batch) await applyItem(pending.item).then(pending.resolve, pending.reject);
      }
    } finally {
      sending = false;
    }
  }

  async function applyItem(item: Json, executor: RootDb = db): Promise<ApplyResult> {
    const { rows } = await sql<{ result: ApplyResult }>`select ${fn('refresh_apply')}(${scope.role}, ${item.grant_id}, ${item.grant_hash}, ${item.generation}, ${item.grace},
      ${item.presented}, ${item.successor}, ${new Date(item.at as string)}, ${JSON.stringify(item.records)}::jsonb, ${item.audit ? JSON.stringify(item.audit) : null}::jsonb,
      ${item.grant_version}, ${item.account_id}, ${item.account_version}) as result`.execute(executor);
    const result = rows[0]?.result;
    if (!result) throw new Error('refresh_apply returned nothing');
    return result;
  }

  /** Keeps an applied rotation's successor with what it was minted on, for the family's next refresh. */
  function keep(rotation: Rotation, family: Json | undefined) {
    const record = rotation.records.find((r) => r.kind === 'RefreshToken' && r.id_hash === rotation.successor);
    // A family from before 0510 had its grant fetched separately: its next refresh reads afresh.
    if (!family || !record || !rotation.grant || !rotation.grantVersion) return;
    if (rotation.account && (!rotation.account.row || !rotation.accountVersion)) return;
    if (kept.size >= KEPT_ROTATIONS) kept.delete(kept.keys().next().value!);
    kept.set(record.id_hash, {
      payload: JSON.parse(record.payload) as Json,
      expiresAt: record.expires_at ? new Date(record.expires_at).getTime() : null,
      family,
      grant: rotation.grant,
      grantVersion: rotation.grantVersion,
      account: rotation.account ? { id: rotation.account.id, row: rotation.account.row! } : undefined,
      accountVersion: rotation.accountVersion,
    });
  }

  /** The presented token from what this node kept, or undefined when it kept nothing usable. */
  function takeKept(tokenHash: string): { row: { id_hash: string; payload: Json; consumed_at: null; family: Json; grant_payload: Json; account: Json | null; grant_version: string; account_version: string | null } } | undefined {
    const entry = kept.get(tokenHash);
    if (!entry) return undefined;
    kept.delete(tokenHash);
    if (entry.expiresAt !== null && entry.expiresAt <= now()) return undefined;
    return {
      row: {
        id_hash: tokenHash,
        payload: entry.payload,
        consumed_at: null,
        family: entry.family,
        grant_payload: entry.grant,
        account: entry.account?.row ?? null,
        grant_version: entry.grantVersion,
        account_version: entry.accountVersion,
      },
    };
  }

  return {
    /** Runs one token request with the fast path available. */
    run<T>(work: () => Promise<T>): Promise<T> {
      return requests.run({}, work);
    },

    /**
     * The presented refresh token, read with its family, grant and account in one statement.
     * Returns null when the fast path does not apply (outside a token request, a token without a
     * family, a decision other than rotate / grace retry): the caller then takes the locked path.
     */
    async find(tokenHash: string, request: RequestFacts): Promise<FoundToken | undefined | null> {
      const state = requests.getStore();
      if (!state || state.rotation) return null;
      const row =
        takeKept(tokenHash)?.row ??
        (
          await send(
            sql<{ id_hash: string; payload: Json; consumed_at: string | Date | null; family: Json | null; grant_payload: Json | null; account: Json | null; grant_version: string | null; account_version: string | null }>`
              select * from ${fn('refresh_find')}(${scope.role}, ${tokenHash}, ${new Date(now())})`,
          )
        ).rows[0];
      if (!row) return undefined;
      if (!row.family) return null;
      const family = familyFromRow(row.family);
      const decision = guard.decide(family, tokenHash, request);
      if (decision.action !== 'rotate' && decision.action !== 'grace_rotate') return null;
      const grantId = row.family.grant_id as string;
      state.rotation = {
        grantId,
        grantHash: grantHash(grantId),
        presented: tokenHash,
        rotations: typeof row.payload.rotations === 'number' ? row.payload.rotations : 0,
        generation: family.generation,
        grace: decision.action === 'grace_rotate',
        request,
        // Known only when the family names its grant's hash (families from before 0510 do not yet).
        grant: row.family.grant_hash ? row.grant_payload : undefined,
        account: row.family.account_id ? { id: row.family.account_id as string, row: row.account } : undefined,
        grantVersion: row.family.grant_hash ? row.grant_version : null,
        accountVersion: row.family.account_id ? row.account_version : null,
        consumed: false,
        records: [],
      };
      const consumed = decision.action === 'rotate' && row.consumed_at ? Math.floor(new Date(row.consumed_at).getTime() / 1000) : undefined;
      return { idHash: row.id_hash, payload: row.payload, consumed };
    },

    /** The grant read with the token (`{ payload }`, payload undefined when it is gone), or undefined when not known. */
    grant(idHash: string): { payload: Json | undefined } | undefined {
      const rotation = requests.getStore()?.rotation;
      if (!rotation || rotation.grant === undefined || rotation.grantHash !== idHash) return undefined;
      return { payload: rotation.grant ?? undefined };
    },

    /** The live account read with the token (`{ row }`, row undefined when there is none), or undefined when not known. */
    account(id: string): { row: Json | undefined } | undefined {
      const rotation = requests.getStore()?.rotation;
      if (!rotation?.account || rotation.account.id !== id) return undefined;
      return { row: rotation.account.row ?? undefined };
    },

    /** oidc-provider spends the presented token: noted, written by refresh_apply. */
    consume(idHash: string): boolean {
      const rotation = requests.getStore()?.rotation;
      if (!rotation || rotation.consumed || rotation.presented !== idHash) return false;
      rotation.consumed = true;
      return true;
    },

    /** A record stored after the token was spent (its successor, the access token): written by refresh_apply. */
    store(row: RecordRow): boolean {
      const rotation = requests.getStore()?.rotation;
      if (!rotation?.consumed) return false;
      if (row.kind === 'RefreshToken' && row.grant_id === rotation.grantId) {
        // One successor per rotation; anything else goes the ordinary way.
        if (rotation.successor && rotation.successor !== row.id_hash) return false;
        rotation.successor = row.id_hash;
      }
      rotation.records = rotation.records.filter((r) => !(r.kind === row.kind && r.id_hash === row.id_hash));
      rotation.records.push(row);
      return true;
    },

    /** The token endpoint's audit event, appended by refresh_apply. */
    audit(event: AuditEvent): boolean {
      const rotation = requests.getStore()?.rotation;
      if (!rotation?.consumed) return false;
      rotation.audit = event;
      return true;
    },

    /**
     * Ends the request's rotation: one refresh_apply. Returns 'refused' when the family moved and
     * the new decision refuses the token, or the grant, the token or the account is gone (the
     * caller answers invalid_grant; a revocation decided meanwhile is in the request transaction,
     * committed with that answer), 'stale' when the grant or the account changed since it was
     * read (nothing written; the caller answers 503, a retry reads afresh).
     */
    async finish(succeeded: boolean): Promise<'none' | 'applied' | 'refused' | 'stale'> {
      const state = requests.getStore();
      const rotation = state?.rotation;
      if (!state || !rotation) return 'none';
      state.rotation = undefined;
      // Refused by oidc-provider (or nothing spent): nothing was written, nothing is.
      if (!succeeded || !rotation.consumed) return 'none';
      if (!rotation.successor) throw new Error('refresh rotation without a successor token');
      const at = new Date(now());
      const open = openedRequestTransaction(db, scope);
      let result: Awaited<ReturnType<typeof apply>>;
      try {
        result = open ? await apply(await open, rotation, rotation.generation, rotation.grace, at) : await applyBatched(rotation, at);
      } catch (error) {
        throw classifyDatabaseError(error);
      }
      if (result.outcome !== 'moved') return conclude(rotation, result);
      // Another request moved the family since it was read: decide again, under the lock.
      return withTenant(db, scope, async (trx) => {
        const { decision, family } = await guard.judge(trx, rotation.grantId, rotation.presented, rotation.rotations, rotation.request);
        if (!family || (decision.action !== 'rotate' && decision.action !== 'grace_rotate')) return 'refused' as const;
        const again = await apply(trx, rotation, family.generation, decision.action === 'grace_rotate', at);
        if (again.outcome === 'moved') throw new Error('refresh_apply refused a decision taken under the family lock');
        return conclude(rotation, again);
      });
    },
  };

  function conclude(rotation: Rotation, result: ApplyResult) {
    if (result.outcome === 'applied') {
      keep(rotation, result.family);
      return 'applied' as const;
    }
    return result.outcome === 'stale' ? ('stale' as const) : ('refused' as const);
  }
}

export type Rotations = ReturnType<typeof createRotations>;

function auditRow(event: AuditEvent) {
  return {
    type: event.type,
    actor: event.actor ?? null,
    subject: event.subject ?? null,
    client_id: event.clientId ?? null,
    ip: event.ip ?? null,
    user_agent: event.userAgent ?? null,
    request_id: event.requestId ?? null,
    data: event.data ?? {},
  };
}
