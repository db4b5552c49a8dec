// NFC cards in the tenant schema (table nfc_cards, migration 0310). Functions take a
// tenant-scoped Kysely (the caller has set role and search_path). Card keys are stored through the
// injected encrypt/decrypt pair, sealed together with the user id and UID so a ciphertext copied
// onto another row is refused.
import type { Kysely } from 'kysely';
import { FacetError } from '../../errors/facet-error.ts';
import { acceptCardTap, type CardTapDecision } from './accept-card-tap.ts';
import { isHex } from './hex.ts';
import { keyBytes } from './keys.ts';
import { parseSunUrl, type RawSunFields, type SunParamNames } from './parse-sun-url.ts';
import { verifySun } from './verify-sun.ts';
import type { TenantKysely } from '../../db/tenant-scope.ts';

export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(token: string): string;
}

export interface StoredCard {
  id: string;
  userId: string;
  uid: string;
  name: string;
  metaReadKey: string;
  fileReadKey: string;
  lastCounter: number | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export class NfcStoreError extends FacetError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'NfcStoreError';
    this.code = code;
  }
}

export type CardTapOutcome = (CardTapDecision & { ok: true; cardId: string }) | Exclude<CardTapDecision, { ok: true }> | { ok: false; reason: 'not_enrolled'; message: string };

// When no card accepts a tap, the most telling failure is reported: a replay of a real tap says
// more than a MAC that matches no card.
const FAILURE_RANK = ['malformed', 'unsupported_mode', 'bad_picc_tag', 'bad_mac', 'wrong_card', 'replayed'];

export function createNfcCardStore({ encrypt, decrypt }: SecretBox) {
  function open(row: any): StoredCard {
    let sealed: { userId?: unknown; uid?: unknown; metaReadKey?: unknown; fileReadKey?: unknown };
    try {
      sealed = JSON.parse(decrypt(row.keys_encrypted));
    } catch {
      throw new NfcStoreError('nfc_keys_unreadable', 'stored card keys cannot be decrypted');
    }
    if (sealed.userId !== row.user_id || sealed.uid !== row.uid || typeof sealed.metaReadKey !== 'string' || typeof sealed.fileReadKey !== 'string') {
      throw new NfcStoreError('nfc_keys_mismatch', 'stored card keys do not belong to their row');
    }
    return {
      id: row.id,
      userId: row.user_id,
      uid: row.uid,
      name: row.name,
      metaReadKey: sealed.metaReadKey,
      fileReadKey: sealed.fileReadKey,
      lastCounter: row.last_counter,
      createdAt: new Date(row.created_at),
      lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
    };
  }

  /**
   * Enrolls a card. `lastCounter` is the counter of the tap that proved possession at enrollment,
   * so that very URL cannot be replayed afterwards. Returns undefined when the UID is already
   * enrolled in this tenant.
   */
  async function addCard(
    db: TenantKysely,
    { userId, uid, metaReadKey, fileReadKey, name, lastCounter = null }:
      { userId: string; uid: string; metaReadKey: string; fileReadKey: string; name: string; lastCounter?: number | null },
  ): Promise<string | undefined> {
    if (!isHex(uid, 7)) throw new RangeError('uid must be 14 hex characters');
    keyBytes(metaReadKey, 'metaReadKey');
    keyBytes(fileReadKey, 'fileReadKey');
    const normalized = uid.toUpperCase();
    const keys_encrypted = encrypt(
      JSON.stringify({ userId, uid: normalized, metaReadKey: metaReadKey.toUpperCase(), fileReadKey: fileReadKey.toUpperCase() }),
    );
    const row = await db
      .insertInto('nfc_cards')
      .values({ user_id: userId, uid: normalized, keys_encrypted, name, last_counter: lastCounter })
      .onConflict((oc) => oc.column('uid').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  async function listCards(db: TenantKysely, userId: string): Promise<StoredCard[]> {
    const rows = await db.selectFrom('nfc_cards').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    return rows.map(open);
  }

  /** Raises the card's counter to `counter` if it is higher; false when another tap got there first. */
  async function recordTap(db: TenantKysely, { cardId, counter }: { cardId: string; counter: number }): Promise<boolean> {
    const result = await db
      .updateTable('nfc_cards')
      .set({ last_counter: counter, last_used_at: new Date() })
      .where('id', '=', cardId)
      .where((eb) => eb.or([eb('last_counter', 'is', null), eb('last_counter', '<', counter)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Verifies a tap against the user's cards and consumes it: parse, check it under each card's
   * keys, require that card's UID and a higher counter, then raise the stored counter atomically.
   */
  async function verifyTap(db: TenantKysely, { userId, tap, params = {} }: { userId: string; tap: string | URL | RawSunFields; params?: SunParamNames }): Promise<CardTapOutcome> {
    const cards = await listCards(db, userId);
    if (cards.length === 0) return { ok: false, reason: 'not_enrolled', message: 'no NFC card is enrolled for this account' };
    const parsed = parseSunUrl(tap, params);
    if (!parsed.ok) return parsed;
    let worst: Exclude<CardTapDecision, { ok: true }> | undefined;
    for (const card of cards) {
      const result = verifySun({
        piccData: parsed.piccData,
        cmac: parsed.cmac,
        macInput: parsed.macInput,
        ...(parsed.enc !== undefined ? { encFileData: parsed.enc } : {}),
        metaReadKey: card.metaReadKey,
        fileReadKey: card.fileReadKey,
      });
      let decision = acceptCardTap({ result, expectedUid: card.uid, lastCounter: card.lastCounter });
      if (decision.ok) {
        if (await recordTap(db, { cardId: card.id, counter: decision.counter })) return { ...decision, cardId: card.id };
        decision = { ok: false, reason: 'replayed', message: 'this tap was already used; tap the card again' };
      }
      if (!worst || FAILURE_RANK.indexOf(decision.reason) > FAILURE_RANK.indexOf(worst.reason)) worst = decision;
    }
    return worst!;
  }

  async function removeCard(db: TenantKysely, { userId, cardId }: { userId: string; cardId: string }): Promise<boolean> {
    const result = await db.deleteFrom('nfc_cards').where('id', '=', cardId).where('user_id', '=', userId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  return { addCard, listCards, recordTap, verifyTap, removeCard };
}

export type NfcCardStore = ReturnType<typeof createNfcCardStore>;

/** Removes every card of the user, as an administrator's reset; returns how many went. */
export async function removeCardsOf(db: TenantKysely, userId: string): Promise<number> {
  const result = await db.deleteFrom('nfc_cards').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
