// The JSON calls the end-user pages make (passkey ceremonies, face enrolment and checks), declared
// with the route guard like the admin API: params, body and the success answer as zod schemas,
// the refusals as problem+json. The handlers parse their input with these declarations
// (guardedInput / parseDeclared), and the OpenAPI 3.1 document at /t/<slug>/pages/openapi.json
// is built from them, so it cannot drift from the code.
//
// Every call runs under a cookie (the interaction's, the account page's sign-in flow or its
// session) and carries that binding's CSRF token in the body's `csrf` field (or X-CSRF-Token);
// the face routes read their larger bodies before checking it.
import { z } from 'zod';
import type { RouteSpec } from '../http/middleware/guard.ts';
import { openApiDocument } from '../http/openapi.ts';
import { BODY_LIMITS, FACE_UPLOAD } from '../config/defaults.ts';

// ---------------------------------------------------------------------------------------------
// Schemas

const csrf = z.string().describe("The CSRF token of the page (also accepted as the X-CSRF-Token header).");
const uidParams = z.object({ uid: z.string().min(1).describe('The OIDC interaction id.') });

/** A WebAuthn credential as the browser's PublicKeyCredential.toJSON() gives it. */
const credentialJson = z
  .object({ id: z.string().min(1), rawId: z.string(), type: z.string(), response: z.object({}).loose() })
  .loose()
  .describe('The PublicKeyCredential, as JSON (WebAuthn Level 3 toJSON()).');

const redirect = z.object({ redirect: z.string().describe('Where the browser goes next.') });

const requestOptions = z
  .object({ challenge: z.string(), timeout: z.number().optional(), rpId: z.string().optional(), allowCredentials: z.array(z.object({ id: z.string(), type: z.string() }).loose()).optional(), userVerification: z.string().optional() })
  .loose()
  .describe('PublicKeyCredentialRequestOptionsJSON (WebAuthn).');

const creationOptions = z
  .object({
    challenge: z.string(),
    rp: z.object({ name: z.string(), id: z.string().optional() }).loose(),
    user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }).loose(),
    pubKeyCredParams: z.array(z.object({ type: z.string(), alg: z.number() }).loose()),
  })
  .loose()
  .describe('PublicKeyCredentialCreationOptionsJSON (WebAuthn).');

const MAX_FRAME_BYTES = FACE_UPLOAD.maxFrameBytes;
export const MAX_ENROL_FRAMES = FACE_UPLOAD.maxEnrolFrames;
export const MAX_VERIFY_FRAMES = FACE_UPLOAD.maxVerifyFrames;
const base64Frame = z
  .string()
  .min(100)
  .max(Math.ceil((MAX_FRAME_BYTES * 4) / 3) + 4)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/)
  .describe('One camera frame, base64 (JPEG, PNG or WebP).');

export const signInOptionsBody = z.object({ csrf, username: z.string().trim().max(100).optional().describe('Username-first sign-in: offer only this account’s passkeys.') });
export const credentialBody = z.object({ csrf, response: credentialJson });
const csrfBody = z.object({ csrf }).loose();
export const faceEnrolBody = z.object({ csrf, consent: z.literal(true).describe('The person agreed to the consent text shown.'), frames: z.array(base64Frame).min(1).max(MAX_ENROL_FRAMES) });
export const faceChallengeBody = z.object({ csrf, testSteps: z.string().optional().describe('Test deployments only: the challenge steps to use.') }).loose();
export const faceVerifyBody = z.object({
  csrf,
  challengeId: z.uuid(),
  /** The page's clock when it sent the request; capture times are taken relative to it. */
  sentAt: z.number().finite().describe("The page's clock (ms) when it sent the request."),
  frames: z.array(z.object({ image: base64Frame, at: z.number().finite().describe("The page's clock (ms) at capture.") })).min(1).max(MAX_VERIFY_FRAMES),
});
const faceChallenge = z.object({
  id: z.uuid(),
  ttlMs: z.number().int(),
  steps: z.array(z.object({ step: z.string(), text: z.string() })),
});

// ---------------------------------------------------------------------------------------------
// Problems

const INPUT = { 400: 'Invalid parameters (invalid_parameters, naming each field in `errors`) or a body that is not JSON (invalid_json).', 413: 'The body is too large.', 415: 'The body is not JSON.' } as const;
const FLOW = { 403: 'A missing or wrong CSRF token (csrf_failed).', 429: 'Too many attempts (Retry-After).' } as const;
const INTERACTION = { ...INPUT, ...FLOW, 400: `${INPUT[400]} Also: the interaction is gone (interaction_expired), or the ceremony was refused (its reason as code).` } as const;
const ACCOUNT = {
  ...INPUT,
  ...FLOW,
  400: `${INPUT[400]} Also: the ceremony was refused (its reason as code).`,
  401: 'Not signed in to the account page (not_signed_in).',
  403: 'A missing or wrong CSRF token (csrf_failed), or a fresh proof is needed first (fresh_proof_required, with `redirect`).',
} as const;
const FACE = {
  ...INPUT,
  403: 'A missing or wrong CSRF token (csrf_failed), or no passkey in this interaction or session yet (passkey_required, with `redirect`).',
  409: 'The templates were made by another model (model_mismatch).',
  423: 'The face factor is locked (locked).',
  429: 'Too many attempts (Retry-After).',
  503: 'Face checks are unavailable here (unavailable).',
} as const;

// ---------------------------------------------------------------------------------------------
// Routes

/**
 * The sign-in and sign-up steps, each served under an interaction (/interaction/:uid…) and under
 * the account page's own sign-in (/account/sign-in…): paths here are relative to those bases.
 */
export const FLOW_JSON_ROUTES = {
  passkeyOptions: {
    method: 'post',
    path: '/passkey/options',
    operationId: 'passkeySignInOptions',
    summary: 'Options for a passkey sign-in (a stored challenge; a username offers only its passkeys)',
    tags: ['passkey'],
    body: signInOptionsBody,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'The WebAuthn request options.', schema: requestOptions } },
    problems: INTERACTION,
  },
  passkeyVerify: {
    method: 'post',
    path: '/passkey/verify',
    operationId: 'passkeySignInVerify',
    summary: 'Verify a passkey assertion and continue the sign-in',
    tags: ['passkey'],
    body: credentialBody,
    bodyRequired: true,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'Signed in: where to go next.', schema: redirect } },
    problems: INTERACTION,
  },
  registerOptions: {
    method: 'post',
    path: '/register/options',
    operationId: 'passkeyRegistrationOptions',
    summary: 'Options for creating the passkey of a sign-up (or a new one after recovery)',
    tags: ['passkey'],
    body: csrfBody,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'The WebAuthn creation options.', schema: creationOptions } },
    problems: { ...INTERACTION, 400: `${INTERACTION[400]} No sign-up or recovery is pending (pending_gone).` },
  },
  registerVerify: {
    method: 'post',
    path: '/register/verify',
    operationId: 'passkeyRegistrationVerify',
    summary: 'Verify the new passkey and create the account (sign-up) or store it (after recovery)',
    tags: ['passkey'],
    body: credentialBody,
    bodyRequired: true,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'Where to go next (the recovery codes after a sign-up).', schema: redirect } },
    problems: INTERACTION,
  },
} satisfies Record<string, RouteSpec>;

/** The account page's and the face pages' JSON calls (paths relative to /t/<slug>). */
export const ACCOUNT_JSON_ROUTES = {
  addPasskeyOptions: {
    method: 'post',
    path: '/account/passkeys/options',
    operationId: 'accountPasskeyOptions',
    summary: 'Options for adding a passkey to the signed-in account (needs a fresh proof)',
    tags: ['account', 'passkey'],
    body: csrfBody,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'The WebAuthn creation options.', schema: creationOptions } },
    problems: ACCOUNT,
  },
  addPasskeyVerify: {
    method: 'post',
    path: '/account/passkeys/verify',
    operationId: 'accountPasskeyVerify',
    summary: 'Verify and store the added passkey (needs a fresh proof)',
    tags: ['account', 'passkey'],
    body: credentialBody,
    bodyRequired: true,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'Added: back to the account page.', schema: redirect } },
    problems: ACCOUNT,
  },
  faceEnrol: {
    method: 'post',
    path: '/account/face/enrol',
    operationId: 'faceEnrol',
    summary: 'Enrol a face from a few camera frames (needs a fresh proof and the consent)',
    tags: ['account', 'face'],
    body: faceEnrolBody,
    bodyRequired: true,
    bodyLimit: BODY_LIMITS.pictures,
    responses: { 200: { description: 'Enrolled: back to the account page.', schema: redirect } },
    problems: {
      ...FACE,
      400: `${INPUT[400]} Also: consent_required, or no usable frame (the engine's reason as code, all of them in \`reasons\`).`,
      401: ACCOUNT[401],
      403: 'A missing or wrong CSRF token (csrf_failed), or a fresh proof is needed first (reauth_required, with `redirect`).',
    },
  },
  faceChallengeStepUp: {
    method: 'post',
    path: '/interaction/:uid/stepup/face/challenge',
    operationId: 'faceChallengeStepUp',
    summary: 'Issue a single-use active-liveness challenge for a face step-up',
    tags: ['face'],
    params: uidParams,
    body: faceChallengeBody,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'The challenge: what to do, and for how long it holds.', schema: faceChallenge } },
    problems: { ...FACE, 400: `${INPUT[400]} Also: the interaction is gone (interaction_expired).` },
  },
  faceVerifyStepUp: {
    method: 'post',
    path: '/interaction/:uid/stepup/face/verify',
    operationId: 'faceVerifyStepUp',
    summary: 'Check the face against the challenge and continue the sign-in',
    tags: ['face'],
    params: uidParams,
    body: faceVerifyBody,
    bodyRequired: true,
    bodyLimit: BODY_LIMITS.pictures,
    responses: { 200: { description: 'Verified: where to go next.', schema: redirect } },
    problems: { ...FACE, 400: `${INPUT[400]} Also: the interaction or the challenge is gone, or the face did not match (the reason as code).` },
  },
  faceChallengeProof: {
    method: 'post',
    path: '/account/verify/face/challenge',
    operationId: 'faceChallengeAccountProof',
    summary: "Issue a face challenge for the account page's fresh proof",
    tags: ['account', 'face'],
    body: faceChallengeBody,
    bodyLimit: BODY_LIMITS.page,
    responses: { 200: { description: 'The challenge.', schema: faceChallenge } },
    problems: { ...FACE, 401: ACCOUNT[401] },
  },
  faceVerifyProof: {
    method: 'post',
    path: '/account/verify/face/verify',
    operationId: 'faceVerifyAccountProof',
    summary: "Check the face as the account page's fresh proof",
    tags: ['account', 'face'],
    body: faceVerifyBody,
    bodyRequired: true,
    bodyLimit: BODY_LIMITS.pictures,
    responses: { 200: { description: 'Proven: back to where the change was asked for.', schema: redirect } },
    problems: { ...FACE, 400: `${INPUT[400]} Also: the challenge is gone, or the face did not match (the reason as code).`, 401: ACCOUNT[401] },
  },
} satisfies Record<string, RouteSpec>;

/** The bases each flow step is served under. */
export const FLOW_BASES = [
  { base: '/interaction/:uid', suffix: 'InInteraction', params: uidParams },
  { base: '/account/sign-in', suffix: 'OnAccountPage', params: undefined },
] as const;

/** Every declared JSON route of the pages, with its full path (relative to /t/<slug>). */
export function pageJsonRoutes(): RouteSpec[] {
  const flowRoutes = FLOW_BASES.flatMap(({ base, suffix, params }) =>
    Object.values(FLOW_JSON_ROUTES).map((spec): RouteSpec => ({ ...spec, path: `${base}${spec.path}`, operationId: `${spec.operationId}${suffix}`, ...(params ? { params } : {}) })),
  );
  return [...flowRoutes, ...Object.values(ACCOUNT_JSON_ROUTES), PAGE_API_DOCUMENT_ROUTE];
}

export const PAGE_API_DOCUMENT_ROUTE: RouteSpec = {
  method: 'get',
  path: '/pages/openapi.json',
  operationId: 'getPageApiDocument',
  summary: 'This document: the JSON calls of the sign-in, account and face pages (OpenAPI 3.1)',
  tags: ['meta'],
  public: true,
  responses: { 200: { description: 'The OpenAPI document.', schema: z.object({ openapi: z.literal('3.1.0') }).loose() } },
};

/** The OpenAPI 3.1 document of the pages' JSON calls of the tenant at `serverUrl` (/t/<slug>). */
export function pageApiDocument(serverUrl: string) {
  return openApiDocument({
    title: 'Facet page API',
    version: '1',
    description:
      'The JSON calls the sign-in, sign-up, account and face pages make. Each runs under the page’s cookie (the OIDC interaction, the account page’s sign-in flow, or its session) and carries the page’s CSRF token. Errors are RFC 9457 problem+json with a stable `code` and a `detail` meant for the person; 429 and 503 carry Retry-After.',
    serverUrl,
    routes: pageJsonRoutes(),
  });
}
