// Remembered consent per user and client (see migration 0011). Only additive: allowing more
// scopes later widens the record; revoking is all-or-nothing (sign out everywhere, deletion).
import type { TenantDb } from '../db/tenant-scope.ts';

export interface ConsentSet {
  scopes: string[];
  claims: string[];
  resources: Record<string, string[]>;
}

const parse = <T>(value: unknown, fallback: T): T => (typeof value === 'string' ? JSON.parse(value) : ((value as T) ?? fallback));

export async function findRememberedConsent(trx: TenantDb, userId: string, clientId: string): Promise<ConsentSet | undefined> {
  const row = await trx.selectFrom('remembered_consents').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
  if (!row) return undefined;
  return { scopes: parse(row.scopes, []), claims: parse(row.claims, []), resources: parse(row.resources, {}) };
}

export async function rememberConsent(trx: TenantDb, userId: string, clientId: string, given: ConsentSet): Promise<void> {
  const before = (await findRememberedConsent(trx, userId, clientId)) ?? { scopes: [], claims: [], resources: {} };
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  const resources: Record<string, string[]> = { ...before.resources };
  for (const [indicator, scopes] of Object.entries(given.resources)) resources[indicator] = union(resources[indicator] ?? [], scopes);
  const values = {
    scopes: JSON.stringify(union(before.scopes, given.scopes)),
    claims: JSON.stringify(union(before.claims, given.claims)),
    resources: JSON.stringify(resources),
    updated_at: new Date(),
  };
  await trx
    .insertInto('remembered_consents')
    .values({ user_id: userId, client_id: clientId, ...values })
    .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet(values))
    .execute();
}

/** True when everything asked for is inside what was consented to before. */
export function covers(remembered: ConsentSet, asked: ConsentSet): boolean {
  return (
    asked.scopes.every((s) => remembered.scopes.includes(s)) &&
    asked.claims.every((c) => remembered.claims.includes(c)) &&
    Object.entries(asked.resources).every(([indicator, scopes]) => scopes.every((s) => (remembered.resources[indicator] ?? []).includes(s)))
  );
}

export async function forgetConsents(trx: TenantDb, userId: string): Promise<void> {
  await trx.deleteFrom('remembered_consents').where('user_id', '=', userId).execute();
}

/** The clients the user has consented to (the account page's "Connected apps"), newest first. */
export async function listRememberedConsents(trx: TenantDb, userId: string): Promise<Array<ConsentSet & { clientId: string; updatedAt: Date }>> {
  const rows = await trx.selectFrom('remembered_consents').selectAll().where('user_id', '=', userId).orderBy('updated_at', 'desc').execute();
  return rows.map((row) => ({ clientId: row.client_id, updatedAt: new Date(row.updated_at), scopes: parse(row.scopes, []), claims: parse(row.claims, []), resources: parse(row.resources, {}) }));
}

/** Forgets what the user allowed one client (revoking its access also ends its grants). */
export async function forgetConsent(trx: TenantDb, userId: string, clientId: string): Promise<boolean> {
  const gone = await trx.deleteFrom('remembered_consents').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
  return Number(gone.numDeletedRows) > 0;
}
