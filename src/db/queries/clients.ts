// The tenant's stored OIDC clients (table `clients`) as the admin API reads and changes them.
// oidc-provider loads them through src/oidc/clients.ts; these queries only keep the rows.
import type { Selectable } from 'kysely';
import type { ClientsTable } from '../schema.ts';
import type { TenantDb } from '../tenant-scope.ts';

export type ClientRecord = Omit<Selectable<ClientsTable>, 'secret_dev'>;

const COLUMNS = ['client_id', 'metadata', 'first_party', 'source', 'secret_env', 'secret_sealed', 'created_at', 'updated_at'] as const;

/** Every stored client, by id. */
export async function listClientRecords(trx: TenantDb): Promise<ClientRecord[]> {
  return trx.selectFrom('clients').select(COLUMNS).orderBy('client_id').execute();
}

/** One client; `forUpdate` locks its row until the transaction ends. */
export async function findClientRecord(trx: TenantDb, clientId: string, { forUpdate = false }: { forUpdate?: boolean } = {}): Promise<ClientRecord | undefined> {
  const query = trx.selectFrom('clients').select(COLUMNS).where('client_id', '=', clientId);
  return (forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

export async function clientExists(trx: TenantDb, clientId: string): Promise<boolean> {
  return (await trx.selectFrom('clients').select('client_id').where('client_id', '=', clientId).executeTakeFirst()) !== undefined;
}

export interface ClientWrite {
  /** The metadata in the tenant file's shape (src/oidc/clients.ts loads it), stored as JSON. */
  metadata: Record<string, unknown>;
  firstParty: boolean;
  /** The sealed secret (src/oidc/clients.ts sealClientSecret), null for a public client. */
  secretSealed: string | null;
}

export async function insertClientRecord(trx: TenantDb, clientId: string, { metadata, firstParty, secretSealed, source }: ClientWrite & { source: string }): Promise<ClientRecord> {
  return trx
    .insertInto('clients')
    .values({ client_id: clientId, metadata: JSON.stringify(metadata), first_party: firstParty, source, secret_sealed: secretSealed })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function updateClientRecord(trx: TenantDb, clientId: string, { metadata, firstParty, secretSealed }: ClientWrite): Promise<ClientRecord> {
  return trx
    .updateTable('clients')
    .set({ metadata: JSON.stringify(metadata), first_party: firstParty, secret_sealed: secretSealed, updated_at: new Date() })
    .where('client_id', '=', clientId)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function setClientSecret(trx: TenantDb, clientId: string, secretSealed: string): Promise<void> {
  await trx.updateTable('clients').set({ secret_sealed: secretSealed, updated_at: new Date() }).where('client_id', '=', clientId).execute();
}

export async function deleteClientRecord(trx: TenantDb, clientId: string): Promise<boolean> {
  const result = await trx.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
