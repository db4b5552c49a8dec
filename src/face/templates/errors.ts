// The face template store's error family: each refusal has a stable code for callers and a
// message that never contains embedding values, key material or ciphertext.
export type FaceTemplateErrorCode =
  | 'face_template_invalid_embedding'
  | 'face_template_invalid_quality'
  | 'face_template_invalid_user'
  | 'face_template_model_mismatch'
  | 'face_template_integrity'
  | 'face_template_undecryptable'
  | 'face_enrol_no_usable_frame'
  | 'face_verify_no_frames';

export class FaceTemplateError extends Error {
  readonly code: FaceTemplateErrorCode;
  constructor(code: FaceTemplateErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FaceTemplateError';
    this.code = code;
  }
}
