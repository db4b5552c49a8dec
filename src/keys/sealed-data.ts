// Everything Facet seals with a purpose key ring (src/crypto/purpose-rings.ts), in one catalogue,
// with the two operations that must cover all of it:
// - rekeyTenant: re-seal every value of a purpose under its ring's first key (`facet keys rekey`);
// - assertSealedDataReadable: the boot check, a few stored values per purpose per tenant must open.
//
//   purpose  ring variable          table.column
//   face     FACET_EMBEDDING_KEYS   face_templates.ciphertext (key_id beside it),
//                                   face_vector_transform.seed_ciphertext (where pgvector exists)
//   factors  FACET_FACTOR_KEYS      totp_factors.secret_encrypted, nfc_cards.keys_encrypted
//
// Re-keying runs in batches ordered by id, each batch in its own tenant transaction with its rows
// locked (FOR UPDATE), and re-seals a row only when its ring's first key did not seal it. A stopped
// run loses at most one batch; running it again continues where it stopped (done rows are skipped).
import { sql } from 'kysely';
import { FacetError } from '../errors/facet-error.ts';
import { assertRingDecrypts, KeyRingError, type KeyRing } from '../crypto/key-ring.ts';
import { FernetError } from '../crypto/fernet.ts';
import { ringFor, variableFor, type KeyPurpose, type PurposeRings } from '../crypto/purpose-rings.ts';
import { withTenant, type TenantScope, untypedTables } from '../db/tenant-scope.ts';
import { rekeyTemplates } from '../face/templates/rekey.ts';
import { sampleTemplateCiphertexts } from '../face/templates/store.ts';
import { createDuplicateDetector } from '../face/duplicates/index.ts';
import type { RootDb } from '../db/client.ts';

/** A sealed text column of a tenant table keyed by a uuid `id`, with no key id stored beside it. */
export interface SealedColumn {
  table: string;
  column: string;
  /** What the values are, for messages ("TOTP secrets"). */
  what: string;
}

export const FACTOR_SECRET_COLUMNS: readonly SealedColumn[] = [
  { table: 'totp_factors', column: 'secret_encrypted', what: 'TOTP secrets' },
  { table: 'nfc_cards', column: 'keys_encrypted', what: 'NFC card keys' },
];

const FIRST_ID = '00000000-0000-0000-0000-000000000000';

export interface RekeyCount {
  purpose: KeyPurpose;
  /** Table (or table.column) the count is about. */
  table: string;
  /** Values re-sealed under the first key in this run. */
  rekeyed: number;
  /** Values that were already under the first key (relabelled face templates count here too). */
  current: number;
}

export class SealedDataError extends FacetError {
  readonly code: 'sealed_value_unreadable';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SealedDataError';
    this.code = 'sealed_value_unreadable';
  }
}

export interface RekeyOptions {
  batchSize?: number;
  /** Called after every committed batch with the counts so far. */
  onBatch?: (count: RekeyCount) => void;
}

/** Re-seals one column of one tenant under `ring`'s first key, batch by batch. */
export async function rekeySealedColumn(
  db: RootDb,
  scope: TenantScope,
  ring: KeyRing,
  target: SealedColumn,
  { purpose = 'factors', batchSize = 200, onBatch, variable = 'FACET_FACTOR_KEYS' }: RekeyOptions & { purpose?: KeyPurpose; variable?: string } = {},
): Promise<RekeyCount> {
  const count: RekeyCount = { purpose, table: target.table, rekeyed: 0, current: 0 };
  let lastId = FIRST_ID;
  for (;;) {
    const batch = await withTenant(db, scope, async (trx) => {
      const rows = (await untypedTables(trx)
        .selectFrom(target.table)
        .select(['id', sql.ref<string>(target.column).as('sealed')])
        .where('id', '>', lastId)
        .orderBy('id')
        .limit(batchSize)
        .forUpdate()
        .execute()) as Array<{ id: string; sealed: string }>;
      let rekeyed = 0;
      for (const row of rows) {
        let opened: { plaintext: Buffer; keyId: string };
        try {
          opened = ring.open(row.sealed);
        } catch (cause) {
          if (!(cause instanceof FernetError)) throw cause;
          throw new SealedDataError(
            `tenant ${scope.slug}: ${target.table} row ${row.id} cannot be opened with ${variable} (${cause.code}): put the key that sealed it back into the ring and run the re-key again`,
            { cause },
          );
        }
        if (opened.keyId === ring.primaryKeyId) continue;
        await untypedTables(trx).updateTable(target.table).set({ [target.column]: ring.encrypt(opened.plaintext) }).where('id', '=', row.id).execute();
        rekeyed += 1;
      }
      return { rows: rows.length, lastId: rows.at(-1)?.id, rekeyed };
    });
    // Counted only once the batch committed.
    count.rekeyed += batch.rekeyed;
    count.current += batch.rows - batch.rekeyed;
    if (batch.rows === 0) return count;
    lastId = batch.lastId!;
    onBatch?.({ ...count });
    if (batch.rows < batchSize) return count;
  }
}

async function hasTable(db: RootDb, table: string): Promise<boolean> {
  const { rows } = await sql<{ ok: string | null }>`select to_regclass(${table})::text as ok`.execute(db);
  return Boolean(rows[0]?.ok);
}

/** Re-seals every value of the given purposes in one tenant; one count per table. */
export async function rekeyTenant(db: RootDb, scope: TenantScope, rings: PurposeRings, purposes: readonly KeyPurpose[], options: RekeyOptions = {}): Promise<RekeyCount[]> {
  const counts: RekeyCount[] = [];
  for (const purpose of purposes) {
    const ring = ringFor(rings, purpose);
    const variable = variableFor(rings, purpose);
    if (purpose === 'face') {
      const templates = await rekeyTemplates(db, ring, {
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
        runBatch: (work) => withTenant(db, scope, work),
        ...(options.onBatch ? { onProgress: (p) => options.onBatch!({ purpose, table: 'face_templates', rekeyed: p.rekeyed, current: p.relabelled }) } : {}),
      });
      counts.push({ purpose, table: 'face_templates', rekeyed: templates.rekeyed, current: templates.relabelled });
      const seed = await withTenant(db, scope, async (trx) => {
        if (!(await hasTable(trx, 'face_vector_transform'))) return undefined;
        const present = await trx.selectFrom('face_vector_transform').select('key_id').executeTakeFirst();
        if (!present) return undefined;
        return createDuplicateDetector({ ring }).rekeySeed(trx);
      });
      if (seed !== undefined) counts.push({ purpose, table: 'face_vector_transform', rekeyed: seed ? 1 : 0, current: seed ? 0 : 1 });
    } else {
      for (const target of FACTOR_SECRET_COLUMNS) counts.push(await rekeySealedColumn(db, scope, ring, target, { ...options, purpose, variable }));
    }
  }
  return counts;
}

/** A few stored values of one column: the oldest and the newest (old keys seal the oldest rows). */
async function sampleColumn(db: RootDb, { table, column }: SealedColumn, limit: number): Promise<string[]> {
  const pick = (direction: 'asc' | 'desc') =>
    db.selectFrom(table).select(sql.ref<string>(column).as('sealed')).orderBy('created_at', direction).orderBy('id', direction).limit(limit).execute();
  const rows = [...(await pick('asc')), ...(await pick('desc'))] as Array<{ sealed: string }>;
  return [...new Set(rows.map((row) => row.sealed))];
}

/** The samples the boot check opens in one tenant, by what they are. */
export async function sampleSealedValues(db: RootDb, purpose: KeyPurpose, { limit = 3 }: { limit?: number } = {}): Promise<Array<{ what: string; tokens: string[] }>> {
  if (purpose === 'face') {
    const samples = [{ what: 'face templates', tokens: await sampleTemplateCiphertexts(db, { limit }) }];
    if (await hasTable(db, 'face_vector_transform')) {
      const seed = await db.selectFrom('face_vector_transform').select('seed_ciphertext').executeTakeFirst();
      if (seed) samples.push({ what: 'duplicate-detection seeds', tokens: [seed.seed_ciphertext as string] });
    }
    return samples;
  }
  const samples = [];
  for (const target of FACTOR_SECRET_COLUMNS) samples.push({ what: target.what, tokens: await sampleColumn(db, target, limit) });
  return samples;
}

/**
 * Boot check: in every tenant, a few stored values of each purpose must open with that purpose's
 * ring. Throws a KeyRingError (code key_ring_cannot_decrypt) naming the tenant, the variable and
 * what could not be opened, rather than letting every TOTP, NFC or face check fail later.
 */
export async function assertSealedDataReadable(db: RootDb, rings: PurposeRings, tenants: readonly TenantScope[], { purposes = ['face', 'factors'] as readonly KeyPurpose[] } = {}): Promise<void> {
  for (const tenant of tenants) {
    await withTenant(db, tenant, async (trx) => {
      for (const purpose of purposes) {
        for (const { what, tokens } of await sampleSealedValues(trx, purpose)) {
          try {
            assertRingDecrypts(ringFor(rings, purpose), tokens, { variable: variableFor(rings, purpose), what, rekey: `facet keys rekey --purpose ${purpose}` });
          } catch (error) {
            if (!(error instanceof KeyRingError)) throw error;
            throw new KeyRingError(error.code, `tenant ${tenant.slug}: ${error.message}`, { cause: error });
          }
        }
      }
    });
  }
}
