// The authenticator app as a Factor: one code from the confirmed app, consumed on success.
import { amrForFactor } from '../../stepup/factors.ts';
import type { Factor } from '../contract.ts';
import { createTotpStore, type SecretBox } from './store.ts';

/** Users type codes with spaces ("123 456"); the check wants the digits only. */
export const normaliseCode = (value: unknown) => (typeof value === 'string' ? value.replace(/[\s-]/g, '') : '');

export function createTotpFactor(box: SecretBox): Factor<{ code: string }> {
  const store = createTotpStore(box);
  return {
    name: 'otp',
    audit: { verified: 'factor.otp.verified', failed: 'factor.otp.failed' },
    async enrolled(trx, userId) {
      return Boolean((await store.find(trx, userId))?.confirmed);
    },
    async verify(trx, { userId, input, now }) {
      const result = await store.verifyCode(trx, { userId, code: normaliseCode(input.code), now: Math.floor(now.getTime() / 1000) });
      if (result.ok) return { ok: true, amr: amrForFactor('otp'), data: { step: result.step } };
      return { ok: false, reason: result.reason, counts: result.reason !== 'not_enrolled' };
    },
  };
}
