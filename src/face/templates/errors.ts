// The face template store's error family: each refusal has a stable code for callers and a
// message that never contains embedding values, key material or ciphertext.
import { FacetError } from '../../errors/facet-error.ts';
export type FaceTemplateErrorCode =
  | 'face_template_invalid_embedding'
  | 'face_template_invalid_quality'
  | 'face_template_invalid_user'
  | 'face_template_model_mismatch'
  | 'face_template_integrity'
  | 'face_template_undecryptable'
  | 'face_enrol_no_usable_frame'
  | 'face_verify_no_frames';

export class FaceTemplateError extends FacetError {
  readonly code: FaceTemplateErrorCode;
  /** The engine's rejection codes behind the refusal (face_enrol_no_usable_frame), never parsed from the message. */
  readonly reasons: readonly string[];
  constructor(code: FaceTemplateErrorCode, message: string, { reasons = [], ...options }: ErrorOptions & { reasons?: readonly string[] } = {}) {
    super(message, options);
    this.name = 'FaceTemplateError';
    this.code = code;
    this.reasons = reasons;
  }
}
