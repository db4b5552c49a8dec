// Face templates at rest: Fernet-encrypted embeddings per tenant, re-keying, comparison, and the
// enrol/verify service built on the face engine.
export { FaceTemplateError, type FaceTemplateErrorCode } from './errors.ts';
export { compareTemplates, cosine, type ModelEmbedding } from './compare.ts';
export { decodeTemplate, encodeTemplate, type TemplatePlaintext } from './codec.ts';
export {
  deleteTemplatesForUser,
  loadTemplates,
  sampleTemplateCiphertexts,
  saveTemplate,
  templateVersions,
  type NewTemplate,
  type StoredTemplate,
} from './store.ts';
export { rekeyTemplates, type RekeyOptions, type RekeyProgress } from './rekey.ts';
export {
  createFaceService,
  DEFAULT_FACE_THRESHOLD,
  type AnalysedFrames,
  type EnrolResult,
  type FaceFrame,
  type FaceService,
  type FaceServiceOptions,
  type PreparedEnrolment,
  type TemplateUpgrade,
  type VerifyResult,
} from './service.ts';
