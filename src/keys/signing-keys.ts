// Per-tenant signing keys: created with the tenant, rotated with an overlap so tokens signed
// before a rotation still verify, then retired.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { TenantDb } from '../db/tenant-scope.ts';
import { openWithKek, sealWithKek } from './key-encryption.ts';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;

/** The associated data binding a token signing key's sealed private half to its tenant and kid. */
export const signingKeyBinding = (slug: string, kid: string) => `${slug}/${kid}`;

async function createKey(trx: TenantDb, kek: string, slug: string, alg: (typeof SIGNING_ALGS)[number], now: Date) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const kid = `${alg.toLowerCase()}-${now.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  await trx
    .insertInto('signing_keys')
    .values({
      kid,
      alg,
      public_jwk: JSON.stringify(publicJwk),
      private_jwk_encrypted: sealWithKek(kek, JSON.stringify(privateJwk), signingKeyBinding(slug, kid)),
      status: 'active',
      created_at: now,
    })
    .execute();
  return kid;
}

/** Creates the first set of keys (one per algorithm) for a new tenant. */
export async function createInitialKeys(trx: TenantDb, { kek, slug, now = new Date() }: { kek: string; slug: string; now?: Date }) {
  const kids: string[] = [];
  for (const alg of SIGNING_ALGS) kids.push(await createKey(trx, kek, slug, alg, now));
  return kids;
}

/**
 * Adds a new active key per algorithm; the previous active keys keep verifying until
 * `now + overlapSeconds`; keys whose overlap has passed are retired (no longer published).
 */
export async function rotateKeys(
  trx: TenantDb,
  { kek, slug, overlapSeconds, now = new Date() }: { kek: string; slug: string; overlapSeconds: number; now?: Date },
) {
  const retired = await retireExpiredKeys(trx, now);
  const retiring = await trx
    .updateTable('signing_keys')
    .set({ status: 'retiring', retire_at: new Date(now.getTime() + overlapSeconds * 1000) })
    .where('status', '=', 'active')
    .returning('kid')
    .execute();
  const created: string[] = [];
  for (const alg of SIGNING_ALGS) created.push(await createKey(trx, kek, slug, alg, now));
  return { created, retiring: retiring.map((r) => r.kid as string), retired };
}

/** Retires keys whose overlap has passed (run by the key-rotation job). */
export async function retireExpiredKeys(trx: TenantDb, now = new Date()) {
  const rows = await trx
    .updateTable('signing_keys')
    .set({ status: 'retired' })
    .where('status', '=', 'retiring')
    .where('retire_at', '<=', now)
    .returning('kid')
    .execute();
  return rows.map((r) => r.kid as string);
}

/**
 * Retires one key still in its overlap now instead of at its retire time (a key suspected of
 * exposure): tokens it signed stop verifying at once. The active keys are never retired this way
 * (they sign; rotate first). Answers what the key was, or undefined when there is no such key.
 */
export async function retireKeyEarly(trx: TenantDb, kid: string, now = new Date()): Promise<{ status: 'retired' | 'active' | 'was_retired' } | undefined> {
  const row = await trx.selectFrom('signing_keys').select(['status']).where('kid', '=', kid).forUpdate().executeTakeFirst();
  if (!row) return undefined;
  if (row.status === 'active') return { status: 'active' };
  if (row.status === 'retired') return { status: 'was_retired' };
  await trx.updateTable('signing_keys').set({ status: 'retired', retire_at: now }).where('kid', '=', kid).execute();
  return { status: 'retired' };
}

/** The private JWKS for oidc-provider: active keys first (they sign), then keys still in overlap. */
export async function loadSigningJwks(trx: TenantDb, { kek, slug, now = new Date() }: { kek: string; slug: string; now?: Date }) {
  const rows = await trx
    .selectFrom('signing_keys')
    .select(['kid', 'status', 'private_jwk_encrypted', 'retire_at', 'created_at'])
    .where((eb) => eb.or([eb('status', '=', 'active'), eb.and([eb('status', '=', 'retiring'), eb('retire_at', '>', now)])]))
    .orderBy('created_at', 'desc')
    .execute();
  const ordered = [...rows.filter((r) => r.status === 'active'), ...rows.filter((r) => r.status !== 'active')];
  return ordered.map((row) => JSON.parse(openWithKek(kek, row.private_jwk_encrypted as string, signingKeyBinding(slug, row.kid as string))) as JWK);
}
