// `facet keys rekey --purpose kek`: re-seals every value sealed under FACET_KEK (src/keys/
// key-encryption.ts) that the ring's first key did not seal, per tenant:
//
//   table.column                            bound to (associated data)
//   signing_keys.private_jwk_encrypted      <slug>/<kid>              token signing keys
//   audit_signing_keys.private_jwk_encrypted <slug>/audit/<kid>       audit-signing keys (retired too)
//   clients.secret_sealed                   client-secret:<slug>:<id> client secrets made in the console
//
// These tables hold a handful of rows per tenant: each table is one transaction with its rows
// locked (FOR UPDATE). Running it again re-seals nothing (done rows open with the first key).
//
// assertKekSealedReadable is the boot check for this ring, as sealed-data.ts's is for the purpose
// rings: the oldest and newest sealed value of each table, in every tenant, must open.
import { sql } from 'kysely';
import { withTenant, type TenantScope, untypedTables } from '../db/tenant-scope.ts';
import type { RootDb } from '../db/client.ts';
import { openWithKekRing, sealWithKek } from './key-encryption.ts';
import { KeyRingError } from '../crypto/key-ring.ts';
import { signingKeyBinding } from './signing-keys.ts';
import { auditKeyBinding } from '../audit/signing.ts';
import { secretBinding } from '../oidc/clients.ts';

interface KekSealedColumn {
  table: string;
  column: string;
  /** The row's key column. */
  id: string;
  binding: (slug: string, id: string) => string;
  /** What the values are, for messages. */
  what: string;
}

export const KEK_SEALED_COLUMNS: readonly KekSealedColumn[] = [
  { table: 'signing_keys', column: 'private_jwk_encrypted', id: 'kid', binding: signingKeyBinding, what: 'token signing key' },
  { table: 'audit_signing_keys', column: 'private_jwk_encrypted', id: 'kid', binding: auditKeyBinding, what: 'audit-signing key' },
  { table: 'clients', column: 'secret_sealed', id: 'client_id', binding: secretBinding, what: 'client secret' },
];

/**
 * Boot check: in every tenant, the oldest and the newest KEK-sealed value of each table (by its key
 * column) must open with FACET_KEK. Throws a KeyRingError (key_ring_cannot_decrypt) naming the
 * tenant, what could not be opened and how to recover, rather than letting token signing, audit
 * checkpoints or a client's secret fail later. Only which rows were sampled is named, never a value.
 */
export async function assertKekSealedReadable(db: RootDb, kek: string, tenants: readonly TenantScope[]): Promise<void> {
  for (const tenant of tenants) {
    await withTenant(db, tenant, async (trx) => {
      for (const target of KEK_SEALED_COLUMNS) {
        const pick = (direction: 'asc' | 'desc') =>
          untypedTables(trx)
            .selectFrom(target.table)
            .select([sql.ref<string>(target.id).as('id'), sql.ref<string>(target.column).as('sealed')])
            .where(sql.ref(target.column), 'is not', null)
            .orderBy(sql.ref(target.id), direction)
            .limit(1)
            .execute() as Promise<Array<{ id: string; sealed: string }>>;
        const samples = new Map([...(await pick('asc')), ...(await pick('desc'))].map((row) => [row.id, row.sealed]));
        for (const [id, sealed] of samples) {
          try {
            openWithKekRing(kek, sealed, target.binding(tenant.slug, id));
          } catch (cause) {
            throw new KeyRingError(
              'key_ring_cannot_decrypt',
              `tenant ${tenant.slug}: FACET_KEK cannot open the sealed ${target.what} ${id} (${target.table}): no key in FACET_KEK sealed it. ` +
                'Put the previous key back after the new first key (FACET_KEK=<new>,<old>), run `facet keys rekey --purpose kek`, and only then remove it.',
              { cause },
            );
          }
        }
      }
    });
  }
}

export interface KekRekeyCount {
  purpose: 'kek';
  table: string;
  rekeyed: number;
  current: number;
}

/** Re-seals one tenant's KEK-sealed values under the first key of FACET_KEK; one count per table. */
export async function rekeyKekSealed(db: RootDb, scope: TenantScope, kek: string): Promise<KekRekeyCount[]> {
  const counts: KekRekeyCount[] = [];
  for (const target of KEK_SEALED_COLUMNS) {
    counts.push(
      await withTenant(db, scope, async (trx) => {
        const rows = (await untypedTables(trx)
          .selectFrom(target.table)
          .select([sql.ref<string>(target.id).as('id'), sql.ref<string>(target.column).as('sealed')])
          .where(sql.ref(target.column), 'is not', null)
          .orderBy(sql.ref(target.id))
          .forUpdate()
          .execute()) as Array<{ id: string; sealed: string }>;
        let rekeyed = 0;
        for (const row of rows) {
          const binding = target.binding(scope.slug, row.id);
          let opened: { plaintext: string; index: number };
          try {
            opened = openWithKekRing(kek, row.sealed, binding);
          } catch (cause) {
            throw new Error(`tenant ${scope.slug}: ${target.table} ${row.id}: ${(cause as Error).message}`, { cause });
          }
          if (opened.index === 0) continue;
          await untypedTables(trx).updateTable(target.table).set({ [target.column]: sealWithKek(kek, opened.plaintext, binding) }).where(sql.ref(target.id), '=', row.id).execute();
          rekeyed += 1;
        }
        return { purpose: 'kek' as const, table: target.table, rekeyed, current: rows.length - rekeyed };
      }),
    );
  }
  return counts;
}
