// Sign-up invitations: a row per invite (single use, expiry) and a link token signed with a key
// derived from the installation's cookie key, so a guessed or altered token is refused before
// the database is asked.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TenantDb } from '../db/tenant-scope.ts';

export const INVITE_TTL_SECONDS = 7 * 24 * 3600;
/** The email of an invite that fits any address (the development start banner's first-admin link). */
export const ANY_EMAIL = '';

function signature(key: string, slug: string, id: string, expires: number): string {
  const derived = createHmac('sha256', key).update('facet-invite-v1').digest();
  return createHmac('sha256', derived).update(`${slug}.${id}.${expires}`).digest('base64url');
}

export async function createInvite(
  trx: TenantDb,
  {
    slug,
    email,
    key,
    createdBy = null,
    role = null,
    now = new Date(),
    ttlSeconds = INVITE_TTL_SECONDS,
  }: { slug: string; email: string; key: string; createdBy?: string | null; role?: 'admin' | 'helpdesk' | 'auditor' | null; now?: Date; ttlSeconds?: number },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const row = await trx.insertInto('invites').values({ email, created_by: createdBy, expires_at: expiresAt, role }).returning('id').executeTakeFirstOrThrow();
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return { id: row.id as string, token: `${row.id}.${expires}.${signature(key, slug, row.id as string, expires)}`, expiresAt };
}

/** A valid invite; `role` is the console role its sign-up is granted (src/admin/roles.ts), if any. */
export type InviteCheck = { ok: true; id: string; email: string; role: string | null } | { ok: false; reason: 'invalid' | 'expired' | 'used' };

function parse(token: string, slug: string, key: string): { id: string; expires: number } | undefined {
  const [id, expiresText, sig] = token.split('.');
  if (!id || !expiresText || !sig || !/^\d+$/.test(expiresText)) return undefined;
  const expected = Buffer.from(signature(key, slug, id, Number(expiresText)));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  return { id, expires: Number(expiresText) };
}

/** Checks an invite without using it (to show the sign-up form). */
export async function checkInvite(trx: TenantDb, { token, slug, key, now = new Date() }: { token: string; slug: string; key: string; now?: Date }): Promise<InviteCheck> {
  const parsed = parse(token, slug, key);
  if (!parsed) return { ok: false, reason: 'invalid' };
  if (parsed.expires * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  const row = await trx.selectFrom('invites').select(['id', 'email', 'used_at', 'expires_at', 'role']).where('id', '=', parsed.id).executeTakeFirst();
  if (!row) return { ok: false, reason: 'invalid' };
  if (row.used_at) return { ok: false, reason: 'used' };
  if (new Date(row.expires_at).getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, id: row.id, email: row.email, role: row.role };
}

/** Uses the invite for this user, atomically: of two sign-ups with one link only one succeeds. */
export async function redeemInvite(trx: TenantDb, { token, slug, key, userId, now = new Date() }: { token: string; slug: string; key: string; userId: string; now?: Date }): Promise<InviteCheck> {
  const checked = await checkInvite(trx, { token, slug, key, now });
  if (!checked.ok) return checked;
  const result = await trx.updateTable('invites').set({ used_at: now, used_by: userId }).where('id', '=', checked.id).where('used_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1 ? checked : { ok: false, reason: 'used' };
}
