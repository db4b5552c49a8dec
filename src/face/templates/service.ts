// Face as a factor: enrol a user from a few camera frames, and verify a user against their stored
// templates with passive (and, when a challenge was issued, active) liveness. The caller passes a
// Kysely handle inside its tenant transaction; the engine, key ring and detector are per process.
//
// The engine's work (about half a second per check) needs no database, so each operation also
// comes in two halves: `prepareEnrolment` / `analyse` run the engine before any transaction opens,
// and `saveEnrolment` / `verifyAnalysed` then only read and write rows inside it. A pooled
// connection is never held while a face is being analysed. `enroll` and `verify` are the two
// halves back to back.
import type { Kysely } from 'kysely';
import type { KeyRing } from '../../crypto/key-ring.ts';
import { checkChallenge, FaceRejected, type Challenge, type ChallengeFailure, type FaceAnalysis, type FaceEngine } from '../index.ts';
import type { DuplicateCheck, DuplicateDetector } from '../duplicates/index.ts';
import { CURRENT_PIPELINE_VERSION, PIPELINE_VERSIONS } from '../pipeline.ts';
import { compareTemplates } from './compare.ts';
import { FaceTemplateError } from './errors.ts';
import { deleteTemplate, loadTemplates, saveTemplate, type StoredTemplate } from './store.ts';
import type { TenantKysely } from '../../db/tenant-scope.ts';

/**
 * Cosine similarity at or above which a probe matches a template, per face pipeline version: the
 * threshold measured for FMR <= 1e-4 over all LFW dev pairs with MobileFaceNet (`facet face eval`,
 * bench/face.ts, docs/face-templates.md), rounded up to three decimals. Templates of older versions
 * keep the threshold measured for them until they are upgraded. A different model needs its own.
 */
export const FACE_THRESHOLDS: Readonly<Record<number, number>> = { 1: 0.401, 2: 0.404, 3: 0.406, 4: 0.406 };

/** The threshold for templates of the current pipeline version. */
export const DEFAULT_FACE_THRESHOLD = FACE_THRESHOLDS[CURRENT_PIPELINE_VERSION]!;

/** A frame as uploaded; `at` is when the server received it (ms), needed for active liveness. */
export type FaceFrame = Uint8Array | { image: Uint8Array; at: number };

export interface FaceServiceOptions {
  engine: Pick<FaceEngine, 'modelName' | 'analyze'> & Partial<Pick<FaceEngine, 'pipelineVersion'>>;
  ring: KeyRing;
  /** Match threshold for templates of the current pipeline version (older versions use FACE_THRESHOLDS). */
  threshold?: number;
  /**
   * After a successful verify against a template of an older pipeline version, replace it with a
   * template of the current version made from the verified frame (default true). The frame must
   * reach `minEnrolQuality`; otherwise the old template stays until a better verify.
   */
  upgradeTemplates?: boolean;
  /**
   * Called inside the caller's transaction right after such an upgrade, so the caller can record
   * it (the server writes the audit event `factor.face.template_upgraded`, src/factors/face/runtime.ts).
   * If it throws, the verify throws and the caller's transaction rolls the upgrade back.
   */
  onTemplateUpgraded?: (db: TenantKysely, upgrade: TemplateUpgrade & { userId: string }) => Promise<void>;
  duplicates?: DuplicateDetector;
  /** Passive liveness (0..1, 1 = real) the compared frame must reach, at enrolment and verification. */
  minPassiveLiveness?: number;
  /** Least quality (0..1) for an enrolment frame. */
  minEnrolQuality?: number;
  /** Without a challenge, every frame must match the best one at this similarity (one person in front of the camera). */
  sameFaceThreshold?: number;
  /** For the active-liveness check: frames with a challenge must show one person at this similarity (pose varies). */
  challengeSameFaceThreshold?: number;
  clock?: () => number;
}

export interface EnrolResult {
  templateId: string;
  quality: number;
  /** Frames refused by the engine, by reason. */
  rejected: Record<string, number>;
  duplicates?: DuplicateCheck;
}

export interface VerifyResult {
  match: boolean;
  /** Best-quality frame against the best-matching template; -1 when nothing could be compared. */
  similarity: number;
  liveness: { passive: number | null; active?: { ok: boolean; reason?: ChallengeFailure }; reasons: string[] };
  /** Why `match` is false (empty when it is true). */
  reasons: string[];
  /** The matched template was made by an older pipeline version and has been replaced by a current one. */
  upgraded?: TemplateUpgrade;
}

/** A template of an older pipeline version replaced by one of the current version. */
export interface TemplateUpgrade {
  fromVersion: number;
  toVersion: number;
  replacedTemplateId: string;
  templateId: string;
}

export interface FaceService {
  enroll(db: TenantKysely, userId: string, frames: FaceFrame[]): Promise<EnrolResult>;
  verify(db: TenantKysely, userId: string, frames: FaceFrame[], challenge?: Challenge): Promise<VerifyResult>;
  /** The engine half of an enrolment (no database): the best usable frame, or face_enrol_no_usable_frame. */
  prepareEnrolment(frames: FaceFrame[]): Promise<PreparedEnrolment>;
  /** The database half of an enrolment: stores the prepared template (and runs duplicate detection). */
  saveEnrolment(db: TenantKysely, userId: string, prepared: PreparedEnrolment): Promise<EnrolResult>;
  /**
   * The engine half of a verification (no database). `challenge`: whether one will be checked.
   * `pipelineVersions`: versions to embed each frame with, so templates of those versions can be
   * compared like with like (default: every version templates may still have, PIPELINE_VERSIONS).
   */
  analyse(frames: FaceFrame[], options: { challenge: boolean; pipelineVersions?: number[] }): Promise<AnalysedFrames>;
  /** The database half of a verification: the user's templates against frames analysed before. */
  verifyAnalysed(db: TenantKysely, userId: string, analysed: AnalysedFrames, challenge?: Challenge): Promise<VerifyResult>;
}

interface Analysed {
  analysis: FaceAnalysis;
  at: number;
  /** Index of the frame among those analysed (an enrolment embeds its chosen frame again for duplicate search). */
  frame: number;
}

/** Frames the engine has analysed for a verification, with the refusals by reason. */
export interface AnalysedFrames {
  readonly analysed: readonly Analysed[];
  readonly rejected: Readonly<Record<string, number>>;
  /** Analysed for an active-liveness challenge (head turns allowed) or not (frontal required). */
  readonly forChallenge: boolean;
  /** Pipeline versions every analysis has an embedding for (`analysis.embeddings`). */
  readonly pipelineVersions: readonly number[];
}

/** The frame chosen for an enrolment, ready to be stored. */
export interface PreparedEnrolment {
  readonly chosen: FaceAnalysis;
  readonly rejected: Record<string, number>;
}

export function createFaceService(options: FaceServiceOptions): FaceService {
  const {
    engine,
    ring,
    threshold = DEFAULT_FACE_THRESHOLD,
    upgradeTemplates = true,
    onTemplateUpgraded,
    duplicates,
    minPassiveLiveness = 0.5,
    minEnrolQuality = 0.3,
    sameFaceThreshold = threshold,
    challengeSameFaceThreshold = 0.3,
    clock = Date.now,
  } = options;

  const currentVersion = engine.pipelineVersion ?? CURRENT_PIPELINE_VERSION;
  const thresholdFor = (version: number) => (version === currentVersion ? threshold : (FACE_THRESHOLDS[version] ?? threshold));
  const allVersions = Object.keys(PIPELINE_VERSIONS).map(Number);

  const imageOf = (frame: FaceFrame) => (frame instanceof Uint8Array ? frame : frame.image);

  async function analyseAll(frames: FaceFrame[], requireFrontal: boolean, alsoEmbed: number[] = []) {
    const analysed: Analysed[] = [];
    const rejected: Record<string, number> = {};
    for (const [index, frame] of frames.entries()) {
      const image = imageOf(frame);
      const at = frame instanceof Uint8Array ? clock() : frame.at;
      try {
        analysed.push({ analysis: await engine.analyze(image, { requireFrontal, ...(alsoEmbed.length ? { alsoEmbed } : {}) }), at, frame: index });
      } catch (error) {
        if (!(error instanceof FaceRejected)) throw error;
        rejected[error.code] = (rejected[error.code] ?? 0) + 1;
      }
    }
    return { analysed, rejected };
  }

  const best = (analysed: readonly Analysed[]) => analysed.reduce((a, b) => (b.analysis.quality > a.analysis.quality ? b : a));

  /** The user's templates of the current model; a finished result when there are none. */
  async function currentTemplates(db: TenantKysely, userId: string): Promise<StoredTemplate[] | VerifyResult> {
    const templates = await loadTemplates(db, ring, userId);
    if (templates.length === 0) {
      return { match: false, similarity: -1, liveness: { passive: null, reasons: [] }, reasons: ['not_enrolled'] };
    }
    const current = templates.filter((t) => t.model === engine.modelName);
    if (current.length === 0) {
      // Refused rather than compared across models: the user must re-enrol with the current model.
      throw new FaceTemplateError(
        'face_template_model_mismatch',
        `the user's face templates were made with "${templates[0]!.model}", not the current "${engine.modelName}": re-enrol`,
      );
    }
    return current;
  }

  /** The probe's embedding made the way `template` was (undefined when the frames were not embedded that way). */
  function probeEmbedding(probe: FaceAnalysis, version: number): Float32Array | undefined {
    if (version === (probe.pipelineVersion ?? currentVersion)) return probe.embedding;
    return probe.embeddings?.[version];
  }

  /** Compares analysed frames with the templates and checks liveness (pure but for the clock). */
  function decide(current: StoredTemplate[], { analysed, rejected }: AnalysedFrames, challenge: Challenge | undefined): VerifyResult & { matched?: StoredTemplate; probe?: FaceAnalysis } {
    const reasons: string[] = [];
    const livenessReasons: string[] = [];
    if (analysed.length === 0) {
      return { match: false, similarity: -1, liveness: { passive: null, reasons: [] }, reasons: ['no_usable_frame', ...Object.keys(rejected)] };
    }
    const probe = best(analysed).analysis;
    // Like with like: each template against the probe embedded by the template's pipeline version,
    // judged by that version's threshold. The reported similarity is the best margin's.
    let similarity = -1;
    let margin = -Infinity;
    let matched: StoredTemplate | undefined;
    for (const template of current) {
      const embedding = probeEmbedding(probe, template.pipelineVersion);
      if (!embedding) continue;
      const score = compareTemplates({ model: engine.modelName, embedding }, template);
      const over = score - thresholdFor(template.pipelineVersion);
      if (over > margin) {
        margin = over;
        similarity = score;
        matched = template;
      }
    }
    if (!matched) reasons.push('template_version_not_analysed');
    else if (margin < 0) reasons.push('below_threshold');

    const passive = probe.passiveLiveness;
    if (passive < minPassiveLiveness) livenessReasons.push('passive_liveness_failed');

    let active: VerifyResult['liveness']['active'];
    if (challenge) {
      const result = checkChallenge(
        challenge,
        analysed.map(({ analysis, at }) => ({ at, pose: analysis.pose, embedding: analysis.embedding })),
        { now: clock(), sameFaceThreshold: challengeSameFaceThreshold },
      );
      active = result.ok ? { ok: true } : { ok: false, reason: result.reason };
      if (!result.ok) livenessReasons.push(`active_liveness_${result.reason}`);
    } else if (analysed.some(({ analysis }) => compareTemplates({ model: engine.modelName, embedding: analysis.embedding }, { model: engine.modelName, embedding: probe.embedding }) < sameFaceThreshold)) {
      reasons.push('frames_not_same_person');
    }
    reasons.push(...livenessReasons);
    return {
      match: reasons.length === 0,
      similarity,
      liveness: { passive, ...(active ? { active } : {}), reasons: livenessReasons },
      reasons,
      ...(matched ? { matched } : {}),
      probe,
    };
  }

  /**
   * The database half after the decision: a match against a template of an older pipeline version
   * replaces that template with one of the current version made from the verified frame.
   */
  async function finish(db: TenantKysely, userId: string, decided: ReturnType<typeof decide>): Promise<VerifyResult> {
    const { matched, probe, ...result } = decided;
    if (!upgradeTemplates || !result.match || !matched || !probe || matched.pipelineVersion === currentVersion) return result;
    if ((probe.pipelineVersion ?? currentVersion) !== currentVersion || probe.quality < minEnrolQuality) return result;
    const { id } = await saveTemplate(db, ring, { userId, model: engine.modelName, pipelineVersion: currentVersion, embedding: probe.embedding, quality: probe.quality });
    await deleteTemplate(db, userId, matched.id);
    if (duplicates) await duplicates.recordEnrolment(db, { templateId: id, userId, model: engine.modelName, pipelineVersion: currentVersion, embedding: probe.embedding, otherEmbeddings: probe.embeddings });
    const upgraded: TemplateUpgrade = { fromVersion: matched.pipelineVersion, toVersion: currentVersion, replacedTemplateId: matched.id, templateId: id };
    if (onTemplateUpgraded) await onTemplateUpgraded(db, { userId, ...upgraded });
    return { ...result, upgraded };
  }

  const service: FaceService = {
    async prepareEnrolment(frames) {
      if (frames.length === 0) throw new FaceTemplateError('face_enrol_no_usable_frame', 'no frames were sent');
      const { analysed, rejected } = await analyseAll(frames, true);
      const usable = analysed.filter(({ analysis }) => {
        if (analysis.passiveLiveness < minPassiveLiveness) rejected.passive_liveness_failed = (rejected.passive_liveness_failed ?? 0) + 1;
        else if (analysis.quality < minEnrolQuality) rejected.low_quality = (rejected.low_quality ?? 0) + 1;
        else return true;
        return false;
      });
      if (usable.length === 0) {
        const reasons = Object.keys(rejected);
        throw new FaceTemplateError('face_enrol_no_usable_frame', `none of the frames can be enrolled (${reasons.join(', ')})`, { reasons });
      }
      const chosen = best(usable);
      // Duplicate detection compares like with like: the chosen frame is also embedded by the older
      // pipeline versions, so accounts whose templates were not upgraded yet are still searched.
      const older = duplicates ? allVersions.filter((v) => v !== currentVersion) : [];
      if (older.length === 0) return { chosen: chosen.analysis, rejected };
      const again = await engine.analyze(imageOf(frames[chosen.frame]!), { requireFrontal: true, alsoEmbed: older });
      return { chosen: { ...chosen.analysis, embeddings: { ...again.embeddings, [currentVersion]: chosen.analysis.embedding } }, rejected };
    },

    async saveEnrolment(db, userId, { chosen, rejected }) {
      const pipelineVersion = chosen.pipelineVersion ?? currentVersion;
      const { id } = await saveTemplate(db, ring, { userId, model: engine.modelName, pipelineVersion, embedding: chosen.embedding, quality: chosen.quality });
      const result: EnrolResult = { templateId: id, quality: chosen.quality, rejected };
      if (duplicates) {
        result.duplicates = await duplicates.recordEnrolment(db, { templateId: id, userId, model: engine.modelName, pipelineVersion, embedding: chosen.embedding, otherEmbeddings: chosen.embeddings });
      }
      return result;
    },

    async enroll(db, userId, frames) {
      return service.saveEnrolment(db, userId, await service.prepareEnrolment(frames));
    },

    async analyse(frames, { challenge, pipelineVersions = allVersions }) {
      if (frames.length === 0) throw new FaceTemplateError('face_verify_no_frames', 'no frames were sent');
      const alsoEmbed = pipelineVersions.filter((v) => v !== currentVersion);
      const versions = [currentVersion, ...alsoEmbed];
      return { ...(await analyseAll(frames, !challenge, alsoEmbed)), forChallenge: challenge, pipelineVersions: versions };
    },

    async verifyAnalysed(db, userId, analysed, challenge) {
      if (analysed.forChallenge !== Boolean(challenge)) throw new TypeError('the frames were analysed for a different kind of check');
      const current = await currentTemplates(db, userId);
      if (!Array.isArray(current)) return current;
      return finish(db, userId, decide(current, analysed, challenge));
    },

    async verify(db, userId, frames, challenge) {
      // Templates first, as a check without any would not need the engine at all; and only the
      // pipeline versions the user's templates were made with are embedded.
      const current = await currentTemplates(db, userId);
      if (!Array.isArray(current)) return current;
      if (frames.length === 0) throw new FaceTemplateError('face_verify_no_frames', 'no frames were sent');
      const pipelineVersions = [...new Set(current.map((t) => t.pipelineVersion))];
      return finish(db, userId, decide(current, await service.analyse(frames, { challenge: Boolean(challenge), pipelineVersions }), challenge));
    },
  };
  return service;
}
