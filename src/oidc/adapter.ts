// oidc-provider's storage adapter over the tenant schema. One table holds every model kind;
// expiry is enforced in SQL (`expires_at`) and old rows are removed by the purge job. Refresh
// tokens additionally pass through the family guard (src/oidc/refresh).
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { withTenant, type TenantDb, type TenantScope } from '../db/tenant-scope.ts';
import { containsUnstorable } from '../db/unstorable.ts';
import { currentRefreshRequest, currentRouteName, type RefreshGuard } from './refresh/guard.ts';
import type { Rotations } from './refresh/rotation.ts';
import type { RecordIdCodec } from './record-ids.ts';
import type { RootDb } from '../db/client.ts';

/** Kinds found by something other than their id; their id is kept sealed, never in clear. */
const SEALED_KINDS = new Set(['Session', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * Payload fields (dot paths) that are, or reveal, a bearer secret. They are sealed on write into
 * one `sealedFields` value bound to the record (kind and id hash) and opened on read, so
 * oidc-provider and its callers see the plain values while the stored JSON never holds them.
 * Every other field of every kind (Grant, AuthorizationCode, AccessToken, RefreshToken,
 * ClientCredentials, ReplayDetection, RegistrationAccessToken, …) holds no secret: their ids
 * are only hashed, and nothing else in them can be presented to the server.
 */
const SECRET_FIELDS: Record<string, readonly string[]> = {
  // session.cookie is the session id (the `_session` cookie); returnTo ends in the interaction
  // uid (the `_interaction` and `_interaction_resume` cookies); deviceCode is the device code,
  // parJti the PAR request_uri; id_token_hint is an ID token; a request object may carry one.
  Interaction: ['session.cookie', 'returnTo', 'deviceCode', 'parJti', 'params.id_token_hint', 'params.request', 'params.request_uri'],
  // The logout confirmation's anti-forgery secret.
  Session: ['state.secret'],
  DeviceCode: ['params.id_token_hint', 'params.request'],
  BackchannelAuthenticationRequest: ['params.id_token_hint', 'params.request', 'params.login_hint_token'],
  PushedAuthorizationRequest: ['request'],
  // Dynamically registered clients.
  Client: ['client_secret'],
};

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Removes the secret fields from `body` (copying the objects on their paths, never mutating oidc-provider's); returns them. */
function takeSecrets(body: Json, paths: readonly string[]): Json | undefined {
  const taken: Json = {};
  for (const path of paths) {
    const keys = path.split('.');
    const last = keys.pop()!;
    let parent: Json | undefined = body;
    for (const key of keys) {
      const child: unknown = parent[key];
      if (!isObject(child)) {
        parent = undefined;
        break;
      }
      parent = parent[key] = { ...child };
    }
    if (parent?.[last] === undefined) continue;
    taken[path] = parent[last];
    delete parent[last];
  }
  return Object.keys(taken).length > 0 ? taken : undefined;
}

/** Puts opened secret fields back on their paths. */
function restoreSecrets(payload: Json, fields: Json): void {
  for (const [path, value] of Object.entries(fields)) {
    const keys = path.split('.');
    let parent = payload;
    for (const key of keys.slice(0, -1)) {
      if (!isObject(parent[key])) parent[key] = {};
      parent = parent[key] as Json;
    }
    parent[keys.at(-1)!] = value;
  }
}

/** What a sealed value is bound to: it opens only in the record it was written for. */
const sealContext = (kind: string, idHash: string) => `oidc_records\0${kind}\0${idHash}`;

export interface AdapterContext {
  db: RootDb;
  scope: TenantScope;
  ids: RecordIdCodec;
  refresh?: RefreshGuard;
  /** The refresh grant in two statements (src/oidc/refresh/rotation.ts). */
  rotations?: Rotations;
  now?: () => number;
}

export function createAdapterClass({ db, scope, ids, refresh, rotations, now = Date.now }: AdapterContext) {
  return class TenantAdapter implements Adapter {
    readonly kind: string;

    constructor(kind: string) {
      this.kind = kind;
    }

    #guarded(): RefreshGuard | undefined {
      return this.kind === 'RefreshToken' ? refresh : undefined;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      // A request parameter PostgreSQL cannot store (NUL: `nonce=%00`) is the client's error.
      if (containsUnstorable(payload)) throw new errors.InvalidRequest('a parameter contains a NUL character or an unpaired surrogate, which is not allowed');
      const { jti: _jti, ...stored } = payload;
      const body: Json = { ...stored };
      const idHash = ids.hash(this.kind, id);
      if (SEALED_KINDS.has(this.kind)) body.sealedId = ids.seal(id);
      if (body.userCode) body.userCode = undefined;
      const secrets = takeSecrets(body, SECRET_FIELDS[this.kind] ?? []);
      if (secrets) body.sealedFields = ids.seal(JSON.stringify(secrets), sealContext(this.kind, idHash));
      const row = {
        kind: this.kind,
        id_hash: idHash,
        payload: JSON.stringify(body),
        grant_id: payload.grantId ?? null,
        user_code_hash: payload.userCode ? ids.hash('UserCode', payload.userCode) : null,
        uid: payload.uid ?? null,
        expires_at: expiresIn ? new Date(now() + expiresIn * 1000) : null,
      };
      // Within a refresh rotation, the successor and the access token are written by its one commit.
      if (rotations?.store(row)) return;
      await withTenant(db, scope, async (trx) => {
        await trx
          .insertInto('oidc_records')
          .values(row)
          .onConflict((oc) =>
            oc.columns(['kind', 'id_hash']).doUpdateSet({
              payload: row.payload,
              grant_id: row.grant_id,
              user_code_hash: row.user_code_hash,
              uid: row.uid,
              expires_at: row.expires_at,
            }),
          )
          .execute();
        await this.#guarded()?.onStore(trx, payload, row.id_hash);
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return this.#findWhere('id_hash', ids.hash(this.kind, id), id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#findWhere('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#findWhere('user_code_hash', ids.hash('UserCode', userCode), undefined, userCode);
    }

    /** The payload as oidc-provider sees it (sealed id and fields opened), or undefined when unreadable. */
    #open(idHash: string, stored: Json, knownId?: string): { payload: AdapterPayload; jti: string; sealed: boolean } | undefined {
      const { sealedId, sealedFields, ...payload } = stored as AdapterPayload & { sealedId?: string; sealedFields?: string };
      let jti = knownId;
      try {
        jti ??= sealedId ? ids.open(sealedId) : undefined;
        // Unreadable (another key, altered, or moved from another record): as if it were not there.
        if (sealedFields) restoreSecrets(payload, JSON.parse(ids.open(sealedFields, sealContext(this.kind, idHash))) as Json);
      } catch {
        return undefined;
      }
      return jti ? { payload, jti, sealed: Boolean(sealedFields) } : undefined;
    }

    async #findWhere(column: 'id_hash' | 'uid' | 'user_code_hash', value: string, knownId?: string, userCode?: string) {
      const request = this.#guarded() ? await currentRefreshRequest() : undefined;
      if (rotations && column === 'id_hash' && knownId) {
        // A refresh grant: the token, its family, grant and account in one read; the grant and the
        // account are then served from it.
        if (request) {
          const found = await rotations.find(value, request);
          if (found === undefined) return undefined;
          if (found) {
            const opened = this.#open(found.idHash, found.payload, knownId);
            return opened && { ...opened.payload, jti: opened.jti, ...(found.consumed ? { consumed: found.consumed } : {}) };
          }
        } else if (this.kind === 'Grant') {
          const known = rotations.grant(value);
          if (known) {
            const opened = known.payload && this.#open(value, known.payload, knownId);
            return opened ? { ...opened.payload, jti: opened.jti } : undefined;
          }
        }
      }
      return withTenant(db, scope, async (trx: TenantDb) => {
        const row = await trx
          .selectFrom('oidc_records')
          .select(['id_hash', 'payload', 'consumed_at'])
          .where('kind', '=', this.kind)
          .where(column, '=', value)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date(now()))]))
          .executeTakeFirst();
        if (!row) return undefined;
        const opened = this.#open(row.id_hash as string, row.payload as Json, knownId);
        if (!opened) return undefined;
        const { payload, jti } = opened;
        if (!opened.sealed && SECRET_FIELDS[this.kind]) await this.#sealLegacy(trx, row.id_hash as string, row.payload as Json);
        let consumed = row.consumed_at ? Math.floor(new Date(row.consumed_at).getTime() / 1000) : undefined;
        const verdict = await this.#guarded()?.onFind(trx, payload, row.id_hash as string, request);
        if (verdict === 'hide') return undefined;
        if (verdict === 'unconsumed') consumed = undefined;
        return { ...payload, jti, ...(userCode ? { userCode } : {}), ...(consumed ? { consumed } : {}) };
      });
    }

    /**
     * A record written before its secret fields were sealed (a dynamically registered client never
     * expires) is sealed when it is first read, unless it changed since.
     */
    async #sealLegacy(trx: TenantDb, idHash: string, stored: Json): Promise<void> {
      const body: Json = { ...stored };
      const secrets = takeSecrets(body, SECRET_FIELDS[this.kind] ?? []);
      if (!secrets) return;
      body.sealedFields = ids.seal(JSON.stringify(secrets), sealContext(this.kind, idHash));
      await trx
        .updateTable('oidc_records')
        .set({ payload: JSON.stringify(body) })
        .where('kind', '=', this.kind)
        .where('id_hash', '=', idHash)
        .where('payload', '=', JSON.stringify(stored))
        .execute();
    }

    async consume(id: string): Promise<void> {
      const idHash = ids.hash(this.kind, id);
      // The presented token of a refresh rotation: spent by the rotation's one commit.
      if (this.#guarded() && rotations?.consume(idHash)) return;
      const request = this.#guarded() ? await currentRefreshRequest() : undefined;
      const outcome = await withTenant(db, scope, async (trx) => {
        const guard = this.#guarded();
        if (guard) {
          const record = await trx.selectFrom('oidc_records').select('payload').where('kind', '=', this.kind).where('id_hash', '=', idHash).executeTakeFirst();
          // Gone since it was found: a concurrent request ended the family meanwhile.
          if (!record && request) return 'refuse';
          const payload = (record?.payload ?? {}) as AdapterPayload;
          const verdict = await guard.onConsume(trx, payload.grantId, idHash, typeof payload.rotations === 'number' ? payload.rotations : 0, request);
          if (verdict !== 'plain') return verdict;
        }
        await trx.updateTable('oidc_records').set({ consumed_at: new Date(now()) }).where('kind', '=', this.kind).where('id_hash', '=', idHash).execute();
        return 'spent';
      });
      if (outcome === 'refuse') throw new errors.InvalidGrant('refresh token already used');
    }

    async destroy(id: string): Promise<void> {
      await withTenant(db, scope, (trx) =>
        trx.deleteFrom('oidc_records').where('kind', '=', this.kind).where('id_hash', '=', ids.hash(this.kind, id)).execute(),
      );
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const reason = currentRouteName();
      await withTenant(db, scope, async (trx) => {
        await trx.deleteFrom('oidc_records').where('kind', '=', this.kind).where('grant_id', '=', grantId).execute();
        await this.#guarded()?.onGrantRevoked(trx, grantId, reason);
      });
    }
  };
}

/** Deletes expired records (the purge job). Returns how many went. */
export async function purgeExpiredRecords(db: RootDb, scope: TenantScope, now = new Date()): Promise<number> {
  const result = await withTenant(db, scope, (trx) => trx.deleteFrom('oidc_records').where('expires_at', '<', now).executeTakeFirst());
  return Number(result.numDeletedRows);
}
