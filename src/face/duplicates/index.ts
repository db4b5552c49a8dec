// Duplicate-enrolment detection over pgvector, with a per-tenant secret rotation of the vectors.
export {
  createDuplicateDetector,
  DEFAULT_DUPLICATE_THRESHOLD,
  DUPLICATE_VECTOR_SIZE,
  enableDuplicateDetection,
  nearestTemplatesQuery,
  vectorParameter,
  type DuplicateCheck,
  type DuplicateDetector,
  type DuplicateDetectorOptions,
  type DuplicateMatch,
  type NewEnrolment,
} from './detector.ts';
export { orthogonalMatrixFromSeed, rotate } from './rotation.ts';
export { detectVectorSupport, PGVECTOR_MISSING, type VectorSupport } from './support.ts';
