// Users of one tenant. Soft deletion is the rule: every lookup goes through `liveUsers`, the one
// place that filters on deleted_at. (Erasure, which really removes rows, lives in erasure.ts.)
import { randomBytes } from 'node:crypto';
import type { TenantDb } from '../db/tenant-scope.ts';

export interface User {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  display_name: string | null;
  status: 'active' | 'locked' | 'disabled';
  webauthn_user_handle: string;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The only entry point for reading users: soft-deleted rows never come back from here. */
export function liveUsers(trx: TenantDb) {
  return trx.selectFrom('users').where('deleted_at', 'is', null);
}

export async function findLiveUserById(trx: TenantDb, id: string): Promise<User | undefined> {
  if (!UUID.test(id)) return undefined;
  return (await liveUsers(trx).selectAll().where('id', '=', id).executeTakeFirst()) as User | undefined;
}

/**
 * Locks the user's row until the transaction ends, so changes that must see every factor of the
 * account (removing a passkey, never the last one) run one at a time per account.
 */
export async function lockUserRow(trx: TenantDb, id: string): Promise<void> {
  if (!UUID.test(id)) return;
  await trx.selectFrom('users').select('id').where('id', '=', id).forUpdate().execute();
}

export async function findLiveUserByUsername(trx: TenantDb, username: string): Promise<User | undefined> {
  return (await liveUsers(trx).selectAll().where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase())).executeTakeFirst()) as
    | User
    | undefined;
}

export async function createUser(
  trx: TenantDb,
  input: { username: string; email?: string | null; displayName?: string | null },
): Promise<User> {
  return createUserWithHandle(trx, { ...input, webauthnUserHandle: randomBytes(32).toString('base64url') });
}

/** Marks a user deleted. Callers also revoke sessions, grants and factors (see accounts/lifecycle). */
export async function softDeleteUser(trx: TenantDb, id: string, at = new Date()): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const result = await trx.updateTable('users').set({ deleted_at: at, updated_at: at }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function restoreUser(trx: TenantDb, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const result = await trx.updateTable('users').set({ deleted_at: null, updated_at: new Date() }).where('id', '=', id).where('deleted_at', 'is not', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Like createUser, with a WebAuthn user handle chosen beforehand (sign-up shows it to the authenticator before the row exists). */
export async function createUserWithHandle(
  trx: TenantDb,
  input: { username: string; email?: string | null; displayName?: string | null; webauthnUserHandle: string },
): Promise<User> {
  return (await trx
    .insertInto('users')
    .values({
      username: input.username,
      email: input.email ?? null,
      display_name: input.displayName ?? null,
      webauthn_user_handle: input.webauthnUserHandle,
    })
    .returningAll()
    .executeTakeFirstOrThrow()) as User;
}

export async function findLiveUserByEmail(trx: TenantDb, email: string): Promise<User | undefined> {
  return (await liveUsers(trx).selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst()) as User | undefined;
}
