// Public API of the face pipeline. Everything else in src/face is internal.
export { createFaceEngine } from './engine.ts';
export type { AnalyzeOptions, FaceAnalysis, FaceEngine, FaceEngineOptions } from './engine.ts';
export { FaceEngineError, FaceModelsUnavailable, FaceRejected } from './errors.ts';
export type { FaceEngineErrorCode, FaceRejectionCode, ImageRejectionCode } from './errors.ts';
export { cosineSimilarity } from './similarity.ts';
export { checkChallenge, createChallenge, DEFAULT_POSE_THRESHOLDS, poseMatches, seededRandom } from './challenge.ts';
export type { Challenge, ChallengeFailure, ChallengeFrame, ChallengeResult, ChallengeStep, CheckChallengeOptions, CreateChallengeOptions, PoseThresholds } from './challenge.ts';
export { estimateHeadPose } from './pose.ts';
export type { HeadPose } from './pose.ts';
export { loadModels, readManifest, verifyModels } from './models.ts';
export type { LoadedModels, ModelEntry, ModelManifest } from './models.ts';
export { fetchModels, ModelFetchError } from './fetch.ts';
export { decodeImage } from './decode.ts';
