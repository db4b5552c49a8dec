// Verifies one TOTP code. Beyond RFC 6238 it enforces single use: the caller stores the step of
// the last accepted code and any step at or before it is refused, so a code read over someone's
// shoulder (or replayed from a phishing proxy) cannot be used a second time.
import { timingSafeEqual } from 'node:crypto';
import { createGuardrails, generateSync } from 'otplib';
import { checkParameters, TOTP_DEFAULTS, TotpConfigError, type TotpParameters } from './options.ts';

export interface VerifyTotpOptions extends TotpParameters {
  /** Base32 secret from the enrollment. */
  secret: string;
  /** What the user typed: exactly `digits` ASCII digits. Callers strip spaces they allow. */
  code: string;
  /** Current time in epoch seconds (default: the clock). */
  now?: number;
  /** Step of the last accepted code for this secret; steps <= it are refused. */
  lastUsedStep?: number | null;
  /** Accepted clock drift in steps either side of now (default 1). */
  window?: number;
}

export type VerifyTotpResult =
  | { ok: true; step: number }
  | { ok: false; reason: 'invalid_code' | 'code_reused' | 'malformed' };

// The RFC 6238 test seeds are 20 bytes; we never accept less than RFC 4226's 128 bits.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 16 });

export function verifyTotp({
  secret,
  code,
  now = Math.floor(Date.now() / 1000),
  lastUsedStep = null,
  window = 1,
  digits = TOTP_DEFAULTS.digits,
  period = TOTP_DEFAULTS.period,
  algorithm = TOTP_DEFAULTS.algorithm,
}: VerifyTotpOptions): VerifyTotpResult {
  checkParameters({ digits, period, algorithm });
  if (!Number.isSafeInteger(window) || window < 0 || window > 10) {
    throw new TotpConfigError('totp_bad_window', 'TOTP window must be an integer between 0 and 10 steps');
  }
  if (!Number.isFinite(now) || now < 0) throw new TotpConfigError('totp_bad_time', 'now must be epoch seconds');
  if (lastUsedStep !== null && !Number.isSafeInteger(lastUsedStep)) throw new TotpConfigError('totp_bad_last_step', 'lastUsedStep must be an integer step or null');
  if (typeof code !== 'string' || code.length !== digits || !/^[0-9]+$/.test(code)) {
    return { ok: false, reason: 'malformed' };
  }
  const typed = Buffer.from(code, 'ascii');
  const current = Math.floor(now / period);
  let fresh: number | null = null;
  let reused = false;
  // Every step in the window is computed and compared, whatever matched earlier, so the time
  // taken does not tell which step (if any) matched.
  for (let step = Math.max(0, current - window); step <= current + window; step++) {
    const expected = Buffer.from(generateAt(secret, step, { digits, period, algorithm }), 'ascii');
    if (!timingSafeEqual(expected, typed)) continue;
    if (lastUsedStep !== null && step <= lastUsedStep) reused = true;
    else fresh ??= step;
  }
  if (fresh !== null) return { ok: true, step: fresh };
  return { ok: false, reason: reused ? 'code_reused' : 'invalid_code' };
}

function generateAt(secret: string, step: number, { digits, period, algorithm }: Required<TotpParameters>): string {
  try {
    return generateSync({ secret, epoch: step * period, period, digits, algorithm, guardrails });
  } catch (cause) {
    // Never echo the secret: the message names the problem only.
    throw new TotpConfigError('totp_bad_secret', 'stored TOTP secret is not a valid base32 secret of at least 16 bytes', { cause });
  }
}
