// TOTP authenticators in the tenant schema (table totp_factors, migration 0300). Functions take a
// tenant-scoped Kysely (the caller has set role and search_path). Secrets are stored through the
// injected encrypt/decrypt pair, sealed together with the user id so a ciphertext copied onto
// another user's row is refused rather than accepted as that user's secret.
import type { Kysely } from 'kysely';
import { FacetError } from '../../errors/facet-error.ts';
import { TOTP_DEFAULTS, type TotpAlgorithm } from './options.ts';
import { verifyTotp, type VerifyTotpResult } from './verify-totp.ts';
import type { TenantKysely } from '../../db/tenant-scope.ts';

export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(token: string): string;
}

export interface StoredTotp {
  id: string;
  userId: string;
  secret: string;
  algorithm: TotpAlgorithm;
  digits: 6 | 8;
  period: number;
  lastUsedStep: number | null;
  /** False while enrollment waits for the first code. */
  confirmed: boolean;
  /** When the first code confirmed it (null while unconfirmed). */
  confirmedAt: Date | null;
}

export class TotpStoreError extends FacetError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TotpStoreError';
    this.code = code;
  }
}

export type VerifyStoredTotpResult = VerifyTotpResult | { ok: false; reason: 'not_enrolled' };

export function createTotpStore({ encrypt, decrypt }: SecretBox) {
  function open(row: any): StoredTotp {
    let sealed: { userId?: unknown; secret?: unknown };
    try {
      sealed = JSON.parse(decrypt(row.secret_encrypted));
    } catch {
      throw new TotpStoreError('totp_secret_unreadable', 'a stored TOTP secret cannot be decrypted');
    }
    if (sealed.userId !== row.user_id || typeof sealed.secret !== 'string') {
      throw new TotpStoreError('totp_secret_mismatch', 'a stored TOTP secret does not belong to its row');
    }
    return {
      id: row.id,
      userId: row.user_id,
      secret: sealed.secret,
      algorithm: row.algorithm,
      digits: row.digits,
      period: row.period,
      lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
      confirmed: row.confirmed_at !== null,
      confirmedAt: row.confirmed_at === null ? null : new Date(row.confirmed_at),
    };
  }

  /**
   * Stores a new, unconfirmed secret for the user, replacing an earlier unconfirmed one. Returns
   * false when the user already has a confirmed authenticator (remove it first, after step-up).
   */
  async function startEnrollment(
    db: TenantKysely,
    { userId, secret, algorithm = TOTP_DEFAULTS.algorithm, digits = TOTP_DEFAULTS.digits, period = TOTP_DEFAULTS.period }:
      { userId: string; secret: string; algorithm?: TotpAlgorithm; digits?: 6 | 8; period?: number },
  ): Promise<boolean> {
    const values = { secret_encrypted: encrypt(JSON.stringify({ userId, secret })), algorithm, digits, period };
    const row = await db
      .insertInto('totp_factors')
      .values({ user_id: userId, ...values })
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({ ...values, last_used_step: null, created_at: new Date() }).where('totp_factors.confirmed_at', 'is', null),
      )
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async function find(db: TenantKysely, userId: string): Promise<StoredTotp | undefined> {
    const row = await db.selectFrom('totp_factors').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row ? open(row) : undefined;
  }

  /**
   * Marks `step` as used, and the factor as confirmed when `confirm` is set. The WHERE clause does
   * the replay check in the database: of two requests racing with the same code, one updates the
   * row and the other updates nothing and gets false.
   */
  async function recordUse(db: TenantKysely, { userId, step, confirm = false }: { userId: string; step: number; confirm?: boolean }): Promise<boolean> {
    let query = db
      .updateTable('totp_factors')
      .set((eb) => ({
        last_used_step: step,
        last_used_at: new Date(),
        confirmed_at: confirm ? eb.fn.coalesce('confirmed_at', eb.val(new Date())) : eb.ref('confirmed_at'),
      }))
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', String(step))]));
    if (!confirm) query = query.where('confirmed_at', 'is not', null);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Checks a code for the user and consumes it. `confirming` accepts the pending enrollment's
   * secret (and confirms it); otherwise only a confirmed authenticator counts.
   */
  async function verifyCode(
    db: TenantKysely,
    { userId, code, now, window, confirming = false }: { userId: string; code: string; now?: number; window?: number; confirming?: boolean },
  ): Promise<VerifyStoredTotpResult> {
    const factor = await find(db, userId);
    if (!factor || (!confirming && !factor.confirmed)) return { ok: false, reason: 'not_enrolled' };
    const result = verifyTotp({
      secret: factor.secret,
      code,
      lastUsedStep: factor.lastUsedStep,
      digits: factor.digits,
      period: factor.period,
      algorithm: factor.algorithm,
      ...(now !== undefined ? { now } : {}),
      ...(window !== undefined ? { window } : {}),
    });
    if (!result.ok) return result;
    return (await recordUse(db, { userId, step: result.step, confirm: confirming })) ? result : { ok: false, reason: 'code_reused' };
  }

  async function remove(db: TenantKysely, userId: string): Promise<boolean> {
    const result = await db.deleteFrom('totp_factors').where('user_id', '=', userId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  return { startEnrollment, find, recordUse, verifyCode, remove };
}

export type TotpStore = ReturnType<typeof createTotpStore>;

/** Removes the user's authenticator app (confirmed or not), as an administrator's reset; returns how many rows went. */
export async function removeTotpOf(db: TenantKysely, userId: string): Promise<number> {
  const result = await db.deleteFrom('totp_factors').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
