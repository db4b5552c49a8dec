// The tenant's token signing keys as the admin API lists them (no private material). Creating,
// rotating and loading them for oidc-provider: src/keys/signing-keys.ts.
import type { TenantDb } from '../tenant-scope.ts';

export interface SigningKeySummary {
  kid: string;
  alg: string;
  status: 'active' | 'retiring' | 'retired';
  createdAt: Date;
  retireAt: Date | null;
}

/** Every signing key of the tenant, newest first. */
export async function listSigningKeys(trx: TenantDb): Promise<SigningKeySummary[]> {
  const rows = await trx.selectFrom('signing_keys').select(['kid', 'alg', 'status', 'created_at', 'retire_at']).orderBy('created_at', 'desc').orderBy('kid').execute();
  return rows.map((r) => ({ kid: r.kid, alg: r.alg, status: r.status as SigningKeySummary['status'], createdAt: r.created_at, retireAt: r.retire_at }));
}
