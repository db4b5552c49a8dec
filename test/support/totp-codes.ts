// Authenticator-app codes for tests. Facet accepts the steps next to its current one and takes a
// code once (a later code must be for a later 30-second step).
import { generateSync } from 'otplib';

export const STEP_MS = 30_000;

/** The 30-second step the clock is in now. */
export const stepNow = (): number => Math.floor(Date.now() / STEP_MS);

/** The code of a given 30-second step. */
export const codeAt = (secret: string, step: number): string => generateSync({ secret, epoch: (step * STEP_MS) / 1000 });

/**
 * The previous step's code, to set an app up with while the current step's stays unused. It is
 * refused if a step ends before the server checks it, so it is never taken in a step's last second.
 */
export async function previousStepCode(secret: string): Promise<string> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < 1000) await new Promise((resolve) => setTimeout(resolve, left + 50));
  return codeAt(secret, stepNow() - 1);
}
