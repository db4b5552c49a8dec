// Every tunable Facet has, in one place, with its unit and why it is what it is. Code reads these
// constants instead of writing numbers of its own; tenant files and the environment override some
// of them (said below). Rate limits and lockout rules have their own tables, referenced here.
//
// Rate limits: src/ratelimit/policies.ts (DEFAULT_LIMITS, DEFAULT_REDIS_GUARD).
// Lockout: src/lockout/rules.ts (DEFAULT_RULES).
// Token lifetimes: src/oidc/ttl.ts (TOKEN_TTLS).
// acr vocabulary: src/stepup/acr-policy.ts (DEFAULT_ACR_VALUES).

/** Refresh-token families (tenant file: settings.refresh_tokens; per client: refresh_grace_seconds). */
export const REFRESH_DEFAULTS = {
  /** Seconds a rotated refresh token may still be presented (a lost response, two tabs); 0–60. */
  graceSeconds: 10,
  /** Seconds without use after which a family ends (14 days: a fortnight's holiday). */
  idleSeconds: 14 * 24 * 3600,
  /** Seconds after which a family ends however it is used (30 days: a monthly sign-in). */
  absoluteSeconds: 30 * 24 * 3600,
} as const;

/** Sign-in and sign-up state between two requests of one interaction (pending steps, step-up progress). */
export const PENDING_STEP_TTL_SECONDS = 15 * 60;

/** Days audit events are kept before they go behind a signed checkpoint (tenant file: settings.audit_retention_days). */
export const AUDIT_RETENTION_DAYS = 400;

/** An account-page session (its own cookie, not an OIDC session): a working day. */
export const ACCOUNT_SESSION_TTL_SECONDS = 12 * 3600;

/** Face pictures sent by the pages (the engine has its own decoding limits in src/face/decode.ts). */
export const FACE_UPLOAD = {
  /** Bytes of one camera frame (a 640×480 JPEG is ~60 KiB). */
  maxFrameBytes: 512 * 1024,
  /** Frames of one enrolment. */
  maxEnrolFrames: 5,
  /** Frames of one verification (the active challenge's steps × captures per step, with room). */
  maxVerifyFrames: 12,
  /** Bytes of one request body of pictures (base64 inflates by a third). */
  maxBodyBytes: 8 * 1024 * 1024,
} as const;

/**
 * Request bodies, in bytes (src/http/middleware/body.ts, the one body reader; over the limit: 413
 * body_too_large, checked against Content-Length before reading).
 */
export const BODY_LIMITS = {
  /** Forms and the JSON steps of the pages: a passkey response is ~2 KiB, a form far less. */
  page: 64 * 1024,
  /** The admin API's JSON bodies: small commands. */
  admin: 16 * 1024,
  /** Camera frames as base64 JSON (the face upload cap above). */
  pictures: FACE_UPLOAD.maxBodyBytes,
} as const;

/** The face engine as the server runs it. */
export const FACE_RUNTIME = {
  /**
   * Inference workers. One by default: with its side thread (src/face/side-thread.ts) one worker
   * keeps two cores busy on a single analysis, and on two cores two workers were no faster (57-59
   * analyses/s either way) while holding two sets of models. Raise on machines with many cores.
   */
  workers: 1,
  /**
   * Passive presentation-attack score below which a check fails. 0: the score is recorded with
   * every check but does not gate, because genuine LFW photos score around 0.5 and it is not
   * calibrated on real spoof data yet (docs/face-pipeline.md).
   */
  minPassiveLiveness: 0,
} as const;
