// Turns failure codes into the user-facing sentence, with the tenant's name filled in.
import { fill, type Strings } from '../../views/strings/index.ts';

export function passkeyMessage(t: Strings, code: string, tenantName: string): string {
  return fill(t.errors.passkey[code] ?? t.errors.generic, { tenant: tenantName });
}

/** The refusal while a factor is locked out (see src/lockout). */
export function lockedMessage(t: Strings, state: { until?: Date | undefined; disabled?: boolean | undefined }): string {
  if (state.disabled || !state.until) return t.errors.disabled;
  return fill(t.errors.locked, { time: `${state.until.toISOString().slice(11, 16)} UTC` });
}
