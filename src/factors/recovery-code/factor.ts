// Recovery codes as a Factor: one unused code from the list shown at sign-up, spent on success.
// They recover an account; they prove no second factor (see RECOVERY_CODE_AMR).
import { amrForFactor } from '../../stepup/factors.ts';
import { useRecoveryCode } from '../../accounts/recovery-codes.ts';
import type { Factor } from '../contract.ts';

export const recoveryCodeFactor: Factor<{ code: string }> = {
  name: 'recovery_code',
  audit: { verified: 'recovery_code.used', failed: 'recovery_code.failed' },
  async enrolled(trx, userId) {
    const row = await trx.selectFrom('recovery_codes').select('user_id').where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
    return Boolean(row);
  },
  async verify(trx, { userId, input, now }) {
    if (await useRecoveryCode(trx, userId, input.code, now)) return { ok: true, amr: amrForFactor('recovery_code'), data: {} };
    return { ok: false, reason: 'bad_code', counts: true };
  },
};
