// The server side of the face prompt's active-liveness challenge: one per binding (an interaction),
// issued with a random sequence of head movements, taken exactly once (deleted on the first
// attempt, whatever its outcome) and refused after its short lifetime.
import { createChallenge, type Challenge, type ChallengeStep } from '../../face/index.ts';
import type { TenantKysely } from '../../db/tenant-scope.ts';

/** Long enough to read three instructions and move, short enough that a prepared video must be ready. */
export const FACE_CHALLENGE_TTL_MS = 45_000;
export const FACE_CHALLENGE_STEPS = 3;

const STEPS: readonly ChallengeStep[] = ['left', 'right', 'straight', 'up', 'down'];

/** Parses a test-only fixed sequence ("straight,left,right"); undefined when it is not one. */
export function parseSteps(value: unknown): ChallengeStep[] | undefined {
  if (typeof value !== 'string') return undefined;
  const steps = value.split(',').map((s) => s.trim());
  if (steps.length < 2 || steps.length > 6 || !steps.every((s) => (STEPS as string[]).includes(s))) return undefined;
  if (steps.some((s, i) => i > 0 && s === steps[i - 1])) return undefined;
  return steps as ChallengeStep[];
}

export interface IssueOptions {
  binding: string;
  userId: string;
  now?: number;
  /** Only ever set when test helpers are on: a fixed sequence so a test can prepare matching video. */
  fixedSteps?: ChallengeStep[];
  ttlMs?: number;
}

/** Issues a new challenge for the binding, replacing any earlier one. */
export async function issueFaceChallenge(db: TenantKysely, { binding, userId, now = Date.now(), fixedSteps, ttlMs = FACE_CHALLENGE_TTL_MS }: IssueOptions): Promise<Challenge> {
  const challenge = createChallenge({ now, ttlMs, steps: FACE_CHALLENGE_STEPS });
  if (fixedSteps) challenge.steps = fixedSteps;
  const values = {
    user_id: userId,
    challenge_id: challenge.id,
    steps: JSON.stringify(challenge.steps),
    issued_at: new Date(challenge.issuedAt),
    expires_at: new Date(challenge.expiresAt),
  };
  await db
    .insertInto('face_challenges')
    .values({ binding, ...values })
    .onConflict((oc) => oc.column('binding').doUpdateSet(values))
    .execute();
  return challenge;
}

/**
 * Removes and returns the binding's challenge for this user and id. Expired challenges come back
 * too (the face check then reports `expired`); a missing, foreign or replaced one is undefined.
 */
export async function takeFaceChallenge(db: TenantKysely, { binding, userId, id }: { binding: string; userId: string; id: string }): Promise<Challenge | undefined> {
  const row = await db
    .deleteFrom('face_challenges')
    .where('binding', '=', binding)
    .returning(['user_id', 'challenge_id', 'steps', 'issued_at', 'expires_at'])
    .executeTakeFirst();
  if (!row || row.user_id !== userId || row.challenge_id !== id) return undefined;
  const steps = (typeof row.steps === 'string' ? JSON.parse(row.steps) : row.steps) as ChallengeStep[];
  return { id: row.challenge_id as string, steps, issuedAt: new Date(row.issued_at).getTime(), expiresAt: new Date(row.expires_at).getTime() };
}

/**
 * Whether the binding holds this user's challenge with this id, without taking it: a cheap look
 * before the slow face analysis. Only takeFaceChallenge decides (once) whether it is used.
 */
export async function hasFaceChallenge(db: TenantKysely, { binding, userId, id }: { binding: string; userId: string; id: string }): Promise<boolean> {
  const row = await db.selectFrom('face_challenges').select(['user_id', 'challenge_id']).where('binding', '=', binding).executeTakeFirst();
  return Boolean(row && row.user_id === userId && row.challenge_id === id);
}

/** Drops expired challenges (called opportunistically when a new one is issued elsewhere). */
/** Drops every open challenge of a user (their face was deleted). */
export async function dropFaceChallengesOf(db: TenantKysely, userId: string): Promise<void> {
  await db.deleteFrom('face_challenges').where('user_id', '=', userId).execute();
}

export async function purgeFaceChallenges(db: TenantKysely, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('face_challenges').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
