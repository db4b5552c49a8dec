// Recovery codes: ten one-time codes, shown once, stored as SHA-256 only. Each code carries 80
// random bits, so a plain hash is as strong as a slow one would be for guessable secrets.
import { createHash, randomBytes } from 'node:crypto';
import type { TenantDb } from '../db/tenant-scope.ts';

export const RECOVERY_CODE_COUNT = 10;
const BASE32 = 'abcdefghijkmnpqrstuvwxyz23456789';

function newCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

/** Accepts what people type: any case, with or without dashes and spaces. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function hashCode(code: string): string {
  return createHash('sha256').update(`facet-recovery:${normalizeRecoveryCode(code)}`).digest('hex');
}

/** Replaces the user's codes with ten new ones and returns them (the only time they exist in clear). */
export async function issueRecoveryCodes(trx: TenantDb, userId: string): Promise<string[]> {
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  await trx
    .insertInto('recovery_codes')
    .values(codes.map((code) => ({ user_id: userId, code_hash: hashCode(code) })))
    .execute();
  return codes;
}

/** Marks one unused code used (atomically). False when it is wrong or already used. */
export async function useRecoveryCode(trx: TenantDb, userId: string, code: string, at = new Date()): Promise<boolean> {
  if (normalizeRecoveryCode(code).length !== 16) return false;
  const result = await trx
    .updateTable('recovery_codes')
    .set({ used_at: at })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hashCode(code))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function remainingRecoveryCodes(trx: TenantDb, userId: string): Promise<number> {
  const row = await trx
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Discards the user's unused codes (an administrator's reset); returns how many. */
export async function discardUnusedRecoveryCodes(trx: TenantDb, userId: string): Promise<number> {
  const result = await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
  return Number(result.numDeletedRows);
}
