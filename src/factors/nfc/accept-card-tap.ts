// Decides whether a verified tap counts as the factor: it must come from the card enrolled for
// this user, and its read counter must be strictly above the last accepted one. The counter rule
// is what makes a SUN URL single-use: a copied URL (browser history, a proxy log) carries an old
// counter and is refused.
import { timingSafeEqual } from 'node:crypto';
import { fromHex, isHex } from './hex.ts';
import type { SunFailure, SunResult } from './result.ts';

export interface AcceptCardTapOptions {
  result: SunResult;
  /** UID of the enrolled card, 14 hex characters. */
  expectedUid: string;
  /** Counter of the last accepted tap for this card, or null if none yet. */
  lastCounter: number | null;
}

export type CardTapDecision =
  | { ok: true; uid: string; counter: number }
  | SunFailure
  | { ok: false; reason: 'wrong_card' | 'replayed'; message: string };

export function acceptCardTap({ result, expectedUid, lastCounter }: AcceptCardTapOptions): CardTapDecision {
  if (!result.ok) return result;
  if (!isHex(expectedUid, 7)) throw new RangeError('expectedUid must be 14 hex characters');
  if (!timingSafeEqual(fromHex(result.uid), fromHex(expectedUid))) {
    return { ok: false, reason: 'wrong_card', message: 'this is not the card enrolled for the account' };
  }
  if (lastCounter !== null && result.counter <= lastCounter) {
    return { ok: false, reason: 'replayed', message: 'this tap was already used; tap the card again' };
  }
  return { ok: true, uid: result.uid, counter: result.counter };
}
