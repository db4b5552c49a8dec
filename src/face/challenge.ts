// Active liveness: the server asks for a short random sequence of head movements and checks that
// the frames sent back show one person performing them, in order, within the challenge lifetime.
// Every step's pose region is disjoint from the others' and consecutive steps always differ, so one
// still photo (or the same photo sent several times) can never satisfy two consecutive steps.
import { randomUUID } from 'node:crypto';
import type { HeadPose } from './pose.ts';
import { cosineSimilarity } from './similarity.ts';

/** 'left' / 'right' are the subject's own left and right (yaw > 0 is the subject's left; see pose.ts). */
export type ChallengeStep = 'left' | 'right' | 'straight' | 'up' | 'down';

export interface Challenge {
  id: string;
  steps: ChallengeStep[];
  issuedAt: number;
  expiresAt: number;
}

export interface CreateChallengeOptions {
  /** Issue time in ms since the epoch. */
  now?: number;
  /** Lifetime in ms. */
  ttlMs?: number;
  /** Number of steps (at least 2). */
  steps?: number;
  /** Uniform [0, 1) source; inject a seeded one to fix the sequence in tests. */
  random?: () => number;
  /** Which movements may be asked for; must include 'left' or 'right'. */
  kinds?: ChallengeStep[];
}

const TURNS: ChallengeStep[] = ['left', 'right'];

export function createChallenge({
  now = Date.now(),
  ttlMs = 30_000,
  steps = 3,
  random = Math.random,
  kinds = ['left', 'right', 'straight', 'up', 'down'],
}: CreateChallengeOptions = {}): Challenge {
  if (steps < 2) throw new RangeError('a challenge needs at least two steps');
  const turns = kinds.filter((k) => TURNS.includes(k));
  if (turns.length === 0) throw new RangeError('a challenge needs left or right among its kinds');
  const pick = <T>(options: T[]): T => options[Math.min(options.length - 1, Math.floor(random() * options.length))];
  const sequence: ChallengeStep[] = [];
  for (let i = 0; i < steps; i += 1) sequence.push(pick(kinds.filter((k) => k !== sequence[i - 1])));
  if (!sequence.some((s) => TURNS.includes(s))) {
    // Put a turn where it differs from both neighbours (always possible: they are not turns).
    const at = Math.floor(random() * steps);
    sequence[at] = pick(turns);
  }
  return { id: randomUUID(), steps: sequence, issuedAt: now, expiresAt: now + ttlMs };
}

export interface PoseThresholds {
  /** |yaw| at least this for 'left'/'right' (degrees). */
  turn: number;
  /** |pitch| at least this for 'up'/'down'. */
  nod: number;
  /** 'straight': |yaw| and |pitch| at most this. */
  straight: number;
  /** During a turn the other axis must stay within this, and vice versa (keeps the steps disjoint). */
  offAxis: number;
}

export const DEFAULT_POSE_THRESHOLDS: PoseThresholds = { turn: 15, nod: 12, straight: 10, offAxis: 12 };

export function poseMatches(step: ChallengeStep, { yaw, pitch }: HeadPose, t: PoseThresholds = DEFAULT_POSE_THRESHOLDS): boolean {
  switch (step) {
    case 'left': return yaw >= t.turn && Math.abs(pitch) < t.turn;
    case 'right': return yaw <= -t.turn && Math.abs(pitch) < t.turn;
    case 'up': return pitch >= t.nod && Math.abs(yaw) < t.offAxis;
    case 'down': return pitch <= -t.nod && Math.abs(yaw) < t.offAxis;
    case 'straight': return Math.abs(yaw) <= t.straight && Math.abs(pitch) <= t.straight;
  }
}

export interface ChallengeFrame {
  /** When the server received the frame (ms since the epoch). */
  at: number;
  pose: HeadPose;
  embedding: Float32Array;
}

export type ChallengeFailure = 'no_frames' | 'expired' | 'frame_outside_lifetime' | 'frames_out_of_order' | 'different_people' | 'steps_not_completed';

export type ChallengeResult = { ok: true; frameForStep: number[] } | { ok: false; reason: ChallengeFailure; completedSteps: number };

export interface CheckChallengeOptions {
  now?: number;
  /** Cosine similarity every frame must reach against the first one to count as the same person. */
  sameFaceThreshold?: number;
  thresholds?: PoseThresholds;
}

/**
 * Frames may be one per step or a longer sequence (e.g. a short video) in which the steps appear
 * in order; frames between steps are ignored, each frame can satisfy at most one step.
 */
export function checkChallenge(
  challenge: Challenge,
  frames: ChallengeFrame[],
  { now = Date.now(), sameFaceThreshold = 0.3, thresholds = DEFAULT_POSE_THRESHOLDS }: CheckChallengeOptions = {},
): ChallengeResult {
  const fail = (reason: ChallengeFailure, completedSteps = 0): ChallengeResult => ({ ok: false, reason, completedSteps });
  if (now > challenge.expiresAt) return fail('expired');
  if (frames.length === 0) return fail('no_frames');
  if (frames.some((f) => f.at < challenge.issuedAt || f.at > challenge.expiresAt || f.at > now)) return fail('frame_outside_lifetime');
  if (frames.some((f, i) => i > 0 && f.at < frames[i - 1].at)) return fail('frames_out_of_order');
  const reference = frames[0].embedding;
  if (frames.some((f) => cosineSimilarity(reference, f.embedding) < sameFaceThreshold)) return fail('different_people');

  const frameForStep: number[] = [];
  for (let i = 0; i < frames.length && frameForStep.length < challenge.steps.length; i += 1) {
    if (poseMatches(challenge.steps[frameForStep.length], frames[i].pose, thresholds)) frameForStep.push(i);
  }
  if (frameForStep.length < challenge.steps.length) return fail('steps_not_completed', frameForStep.length);
  return { ok: true, frameForStep };
}

/** Deterministic [0, 1) generator (mulberry32) for tests and reproducible demos; never for production challenges. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
