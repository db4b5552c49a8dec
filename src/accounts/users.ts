// Users of one tenant. Soft deletion is the rule: every lookup goes through `liveUsers`, the one
// place that filters on deleted_at. (Erasure, which really removes rows, lives in erasure.ts.)
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
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

// --- The admin API's user directory (src/admin/users-api.ts) --------------------------------

export interface UserListing {
  id: string;
  username: string;
  email: string | null;
  display_name: string | null;
  status: string;
  created_at: Date;
  deleted_at: Date | null;
}

/**
 * One page of users for the admin search, `limit + 1` rows so the caller knows whether a next page
 * exists. `text` matches the start of the username or email (case-insensitive), or an exact id;
 * `after` is the last row of the previous page (its sort value and id, keyset paging).
 */
export async function searchUserDirectory(
  trx: TenantDb,
  { text, status, sort, order, limit, after }: { text?: string; status: 'live' | 'deleted' | 'all'; sort: 'created_at' | 'username'; order: 'asc' | 'desc'; limit: number; after?: { value: Date | string; id: string } },
): Promise<UserListing[]> {
  let q = trx.selectFrom('users').select(['id', 'username', 'email', 'display_name', 'status', 'created_at', 'deleted_at']);
  if (status === 'live') q = q.where('deleted_at', 'is', null);
  if (status === 'deleted') q = q.where('deleted_at', 'is not', null);
  if (text) {
    const lower = text.toLowerCase();
    const prefix = `${lower.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb(eb.fn('lower', ['username']), 'like', prefix), eb(eb.fn('lower', ['email']), 'like', prefix), ...(UUID.test(lower) ? [eb('id', '=', lower)] : [])]));
  }
  if (after) q = q.where(sql<boolean>`(${sql.ref(sort)}, id) ${sql.raw(order === 'asc' ? '>' : '<')} (${after.value}, ${after.id}::uuid)`);
  return q.orderBy(sort, order).orderBy('id', order).limit(limit + 1).execute();
}

/** Whether a live account other than `exceptId` has this email address (case-insensitive). */
export async function emailTakenByAnother(trx: TenantDb, email: string, exceptId: string): Promise<boolean> {
  const row = await liveUsers(trx).select('id').where('id', '!=', exceptId).where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();
  return row !== undefined;
}

/** Changes the display name and/or email (a changed email is unverified until the user verifies it). */
export async function updateUserProfile(trx: TenantDb, id: string, changes: { display_name?: string | null; email?: string; email_verified?: boolean }): Promise<void> {
  await trx.updateTable('users').set({ ...changes, updated_at: new Date() }).where('id', '=', id).execute();
}

export async function userProfile(trx: TenantDb, id: string): Promise<Pick<User, 'id' | 'username' | 'email' | 'email_verified' | 'display_name'>> {
  return trx.selectFrom('users').select(['id', 'username', 'email', 'email_verified', 'display_name']).where('id', '=', id).executeTakeFirstOrThrow();
}

/** Locks the whole account (no sign-in). The caller ends its sessions and refresh families. */
export async function lockAccount(trx: TenantDb, id: string): Promise<void> {
  await trx.updateTable('users').set({ status: 'locked', updated_at: new Date() }).where('id', '=', id).execute();
}

/** Unlocks a locked account; false when it was not locked. */
export async function unlockAccount(trx: TenantDb, id: string): Promise<boolean> {
  const result = await trx.updateTable('users').set({ status: 'active', updated_at: new Date() }).where('id', '=', id).where('status', '=', 'locked').executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Any user (also a soft-deleted one), for the admin's user page. */
export async function findAnyUserById(trx: TenantDb, id: string) {
  if (!UUID.test(id)) return undefined;
  return trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}
