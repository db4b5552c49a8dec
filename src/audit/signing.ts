// The tenant's audit-signing keys (ES256): they sign export manifests and chain checkpoints, and
// their public halves are published to auditors at GET /t/<slug>/audit/keys.json. They are not the
// token signing keys: an auditor pins this set, and token-key rotation never touches it.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { CompactSign, compactVerify, exportJWK, generateKeyPair, importJWK, createLocalJWKSet, type JWK, type JSONWebKeySet } from 'jose';
import type { TenantDb } from '../db/tenant-scope.ts';
import { openWithKek, sealWithKek } from '../keys/key-encryption.ts';
import { appendAudit } from './audit-log.ts';

/** The associated data binding an audit key's sealed private half to its tenant and kid. */
export const auditKeyBinding = (slug: string, kid: string) => `${slug}/audit/${kid}`;
const aad = auditKeyBinding;

export interface AuditSigner {
  kid: string;
  sign(payload: Record<string, unknown>, typ: string): Promise<string>;
}

async function createAuditKey(trx: TenantDb, { kek, slug }: { kek: string; slug: string }): Promise<{ kid: string; privateJwk: JWK }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const kid = `audit-es256-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
  await sql`insert into audit_signing_keys (kid, public_jwk, private_jwk_encrypted) values (${kid}, ${JSON.stringify(publicJwk)}::jsonb, ${sealWithKek(kek, JSON.stringify(privateJwk), aad(slug, kid))})`.execute(trx);
  return { kid, privateJwk };
}

const lockKeys = (trx: TenantDb) => sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.audit_signing_keys'))`.execute(trx);

/**
 * Rotates the tenant's audit-signing key: a new key signs from now on; the previous one is
 * retired (it never signs again) but its public half stays in the published key set, so exports
 * and checkpoints it signed still verify. Audited as audit.key_rotated, in the caller's
 * transaction (the event is chained like any other).
 */
export async function rotateAuditKey(
  trx: TenantDb,
  { kek, slug, actor, ip = null, userAgent = null }: { kek: string; slug: string; actor: string; ip?: string | null; userAgent?: string | null },
): Promise<{ created: string; retired: string[] }> {
  await lockKeys(trx);
  const { rows } = await sql<{ kid: string }>`update audit_signing_keys set status = 'retired' where status = 'active' returning kid`.execute(trx);
  const { kid } = await createAuditKey(trx, { kek, slug });
  const retired = rows.map((r) => r.kid).sort();
  await appendAudit(trx, { type: 'audit.key_rotated', actor, ip, userAgent, data: { created: kid, retired } });
  return { created: kid, retired };
}

/** The tenant's audit keys (public facts only), newest first. */
export async function listAuditKeys(trx: TenantDb): Promise<Array<{ kid: string; status: 'active' | 'retired'; created_at: string }>> {
  const { rows } = await sql<{ kid: string; status: 'active' | 'retired'; created_at: Date }>`select kid, status, created_at from audit_signing_keys order by created_at desc, kid`.execute(trx);
  return rows.map((r) => ({ kid: r.kid, status: r.status, created_at: new Date(r.created_at).toISOString() }));
}

/** The active audit-signing key, created (and audited) on first use. */
export async function auditSigner(trx: TenantDb, { kek, slug }: { kek: string; slug: string }): Promise<AuditSigner> {
  // One creator at a time: two first exports must not make two keys.
  await lockKeys(trx);
  const { rows } = await sql<{ kid: string; private_jwk_encrypted: string }>`
    select kid, private_jwk_encrypted from audit_signing_keys where status = 'active' order by created_at desc limit 1`.execute(trx);
  let kid: string;
  let privateJwk: JWK;
  if (rows[0]) {
    kid = rows[0].kid;
    privateJwk = JSON.parse(openWithKek(kek, rows[0].private_jwk_encrypted, aad(slug, kid))) as JWK;
  } else {
    ({ kid, privateJwk } = await createAuditKey(trx, { kek, slug }));
    await appendAudit(trx, { type: 'audit.key_created', actor: 'system', data: { kid } });
  }
  const key = await importJWK(privateJwk, 'ES256');
  return {
    kid,
    sign: (payload, typ) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', kid, typ }).sign(key),
  };
}

/** Every audit key's public half (retired ones too: old exports and checkpoints still verify). */
export async function auditKeySet(trx: TenantDb): Promise<JSONWebKeySet> {
  const { rows } = await sql<{ public_jwk: JWK | string }>`select public_jwk from audit_signing_keys order by created_at`.execute(trx);
  return { keys: rows.map((r) => (typeof r.public_jwk === 'string' ? (JSON.parse(r.public_jwk) as JWK) : r.public_jwk)) };
}

/** Verifies a compact JWS against a key set; returns the parsed payload and header. */
export async function verifyAuditJws(jws: string, keys: JSONWebKeySet, typ: string): Promise<{ payload: Record<string, unknown>; kid: string }> {
  const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(keys), { algorithms: ['ES256'] });
  if (protectedHeader.typ !== typ) throw new Error(`signed object is a ${protectedHeader.typ ?? 'untyped JWS'}, expected ${typ}`);
  return { payload: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>, kid: protectedHeader.kid ?? '' };
}

export const MANIFEST_TYP = 'facet-audit-manifest+jws';
export const CHECKPOINT_TYP = 'facet-audit-checkpoint+jws';
