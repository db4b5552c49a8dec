// The NFC card as a Factor: a fresh tap (SUN URL) of one of the user's own cards, its counter
// consumed on success.
import { amrForFactor } from '../../stepup/factors.ts';
import type { Factor } from '../contract.ts';
import { createNfcCardStore, type SecretBox } from './store.ts';

/** What the user pasted: a URL, trimmed. Anything longer than a card could write is refused. */
export const tapOf = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, 2048) : '');

export function createNfcFactor(box: SecretBox): Factor<{ tap: string }> {
  const store = createNfcCardStore(box);
  return {
    name: 'nfc',
    audit: { verified: 'factor.nfc.verified', failed: 'factor.nfc.failed' },
    async enrolled(trx, userId) {
      return (await store.listCards(trx, userId)).length > 0;
    },
    async verify(trx, { userId, input }) {
      const result = await store.verifyTap(trx, { userId, tap: tapOf(input.tap) });
      if (result.ok) return { ok: true, amr: amrForFactor('nfc'), data: { card_id: result.cardId, uid: result.uid, counter: result.counter } };
      return { ok: false, reason: result.reason, counts: result.reason !== 'not_enrolled' };
    },
  };
}
