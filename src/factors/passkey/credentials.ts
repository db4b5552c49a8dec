// The tenant's WebAuthn credentials. Lookups for sign-in join live users only, so a soft-deleted
// account's passkeys stop working at once and come back with the account.
import type { TenantDb } from '../../db/tenant-scope.ts';
import { liveUsers, type User } from '../../accounts/users.ts';
import { takenChallenge, type TakenChallenge } from './challenges.ts';

export interface StoredCredential {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  aaguid: string | null;
  attestationFormat: string | null;
  backupEligible: boolean;
  backupState: boolean;
  name: string;
  userHandle: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

function toCredential(row: any): StoredCredential {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    transports: typeof row.transports === 'string' ? JSON.parse(row.transports) : (row.transports ?? []),
    aaguid: row.aaguid ?? null,
    attestationFormat: row.attestation_format ?? null,
    backupEligible: row.backup_eligible,
    backupState: row.backup_state,
    name: row.name,
    userHandle: row.user_handle,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
  };
}

const CREDENTIAL_COLUMNS = [
  'c.id',
  'c.user_id',
  'c.credential_id',
  'c.public_key',
  'c.sign_count',
  'c.transports',
  'c.aaguid',
  'c.attestation_format',
  'c.backup_eligible',
  'c.backup_state',
  'c.name',
  'c.user_handle',
  'c.created_at',
  'c.last_used_at',
] as const;

/** The credential with this id and its live owner (a subquery: no row when either is missing). */
function credentialWithOwner(trx: TenantDb, credentialId: string) {
  return trx
    .selectFrom('webauthn_credentials as c')
    .innerJoin(liveUsers(trx).selectAll().as('u'), 'u.id', 'c.user_id')
    .select([...CREDENTIAL_COLUMNS, 'u.username', 'u.email', 'u.email_verified', 'u.display_name', 'u.status', 'u.webauthn_user_handle', 'u.created_at as user_created_at'])
    .where('c.credential_id', '=', credentialId);
}

function toCredentialWithOwner(row: any): { credential: StoredCredential; user: User } {
  const user: User = {
    id: row.user_id,
    username: row.username,
    email: row.email,
    email_verified: row.email_verified,
    display_name: row.display_name,
    status: row.status as User['status'],
    webauthn_user_handle: row.webauthn_user_handle,
    created_at: new Date(row.user_created_at),
  };
  return { credential: toCredential(row), user };
}

/** A credential of this tenant together with its (live) owner, or undefined. */
export async function findCredentialWithOwner(trx: TenantDb, credentialId: string): Promise<{ credential: StoredCredential; user: User } | undefined> {
  const row = await credentialWithOwner(trx, credentialId).executeTakeFirst();
  return row ? toCredentialWithOwner(row) : undefined;
}

/**
 * A sign-in's one read (issue 16): takes the challenge out of the store (DELETE … RETURNING in a
 * CTE, which runs to completion whatever the rest finds: the challenge is spent even when the
 * credential is unknown or the assertion then fails) and finds the credential with its live owner,
 * in one statement. Of two concurrent requests only one gets the challenge (consumeChallenge).
 */
export async function takeChallengeWithCredential(
  trx: TenantDb,
  { binding, purpose, credentialId, now }: { binding: string; purpose: 'authentication' | 'registration'; credentialId: string; now: Date },
): Promise<{ challenge: TakenChallenge; found: { credential: StoredCredential; user: User } | undefined }> {
  const row = await trx
    .with('taken', (db) => db.deleteFrom('webauthn_challenges').where('binding', '=', binding).where('purpose', '=', purpose).returning(['challenge', 'user_id', 'data', 'expires_at']))
    .selectFrom('taken')
    .leftJoin(credentialWithOwner(trx, credentialId).as('found'), (join) => join.onTrue())
    .selectAll('found')
    .select(['taken.challenge as taken_challenge', 'taken.user_id as taken_user_id', 'taken.data as taken_data', 'taken.expires_at as taken_expires_at'])
    .executeTakeFirst();
  const challenge = takenChallenge(row && { challenge: row.taken_challenge, user_id: row.taken_user_id, data: row.taken_data, expires_at: row.taken_expires_at }, now);
  return { challenge, found: row?.id ? toCredentialWithOwner(row) : undefined };
}

export async function listCredentials(trx: TenantDb, userId: string): Promise<StoredCredential[]> {
  const rows = await trx.selectFrom('webauthn_credentials as c').select([...CREDENTIAL_COLUMNS]).where('c.user_id', '=', userId).orderBy('c.created_at').execute();
  return rows.map(toCredential);
}

export async function credentialExists(trx: TenantDb, credentialId: string): Promise<boolean> {
  return Boolean(await trx.selectFrom('webauthn_credentials').select('id').where('credential_id', '=', credentialId).executeTakeFirst());
}

export async function insertCredential(
  trx: TenantDb,
  input: Omit<StoredCredential, 'id' | 'createdAt' | 'lastUsedAt'>,
): Promise<StoredCredential> {
  const row = await trx
    .insertInto('webauthn_credentials')
    .values({
      user_id: input.userId,
      credential_id: input.credentialId,
      public_key: input.publicKey,
      sign_count: input.signCount,
      transports: JSON.stringify(input.transports),
      aaguid: input.aaguid,
      attestation_format: input.attestationFormat,
      backup_eligible: input.backupEligible,
      backup_state: input.backupState,
      name: input.name,
      user_handle: input.userHandle,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toCredential(row);
}

/** Records a successful use: the new counter (never lowered), backup state, time. */
export async function recordCredentialUse(trx: TenantDb, id: string, { signCount, backupState, at }: { signCount: number; backupState: boolean; at: Date }): Promise<void> {
  await trx.updateTable('webauthn_credentials').set({ sign_count: signCount, backup_state: backupState, last_used_at: at }).where('id', '=', id).execute();
}

export async function renameCredential(trx: TenantDb, userId: string, id: string, name: string): Promise<boolean> {
  const result = await trx.updateTable('webauthn_credentials').set({ name }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function removeCredential(trx: TenantDb, userId: string, id: string): Promise<StoredCredential | undefined> {
  const row = await trx.deleteFrom('webauthn_credentials').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst();
  return row ? toCredential(row) : undefined;
}
