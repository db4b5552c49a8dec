// The face pipeline's error family. Every refusal carries a stable `code` the caller can map to a
// user-facing prompt; messages are generic and never contain image data or measurements of a face.
import { FacetError } from '../errors/facet-error.ts';

export type ImageRejectionCode = 'image_too_large' | 'image_too_many_pixels' | 'image_unsupported_format' | 'image_corrupt';

export type FaceRejectionCode =
  | ImageRejectionCode
  | 'no_face'
  | 'multiple_faces'
  | 'face_too_small'
  | 'face_cut_off'
  | 'too_dark'
  | 'too_blurred'
  | 'head_turned';

const MESSAGES: Record<FaceRejectionCode, string> = {
  image_too_large: 'The image file is too large.',
  image_too_many_pixels: 'The image has too many pixels.',
  image_unsupported_format: 'The image must be a JPEG, PNG or WebP file.',
  image_corrupt: 'The image could not be read; it may be truncated or damaged.',
  no_face: 'No face was found in the image.',
  multiple_faces: 'More than one face is in the picture; only one person may be in view.',
  face_too_small: 'The face is too small; move closer to the camera.',
  face_cut_off: 'The face is partly outside the picture; centre your face in the frame.',
  too_dark: 'The picture is too dark; find more light.',
  too_blurred: 'The picture is too blurred; hold still and check the camera is in focus.',
  head_turned: 'Look straight at the camera.',
};

export class FaceRejected extends FacetError {
  readonly code: FaceRejectionCode;
  constructor(code: FaceRejectionCode, options?: { cause?: unknown }) {
    super(MESSAGES[code], options);
    this.name = 'FaceRejected';
    this.code = code;
  }
}

/** The models are missing or do not match the manifest: the face factor must be disabled. */
export class FaceModelsUnavailable extends FacetError {
  readonly code = 'face_models_unavailable';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Face recognition is unavailable: ${reason}`, options);
    this.name = 'FaceModelsUnavailable';
  }
}

export type FaceEngineErrorCode = 'face_worker_crashed' | 'face_worker_timeout' | 'face_engine_closed' | 'face_engine_failed' | 'face_engine_busy';

/**
 * Infrastructure failures (not the user's picture): a worker died, timed out, or the engine is
 * closed. `face_engine_busy` (the verify queue is full) is a 503 with Retry-After that may be shown.
 */
export class FaceEngineError extends FacetError {
  readonly code: FaceEngineErrorCode;
  constructor(code: FaceEngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(
      message,
      code === 'face_engine_busy'
        ? { status: 503, expose: true, title: 'Face checks are busy', detail: 'Too many face checks are waiting; try again in a moment.', headers: { 'Retry-After': '2' }, ...options }
        : options,
    );
    this.name = 'FaceEngineError';
    this.code = code;
  }
}
