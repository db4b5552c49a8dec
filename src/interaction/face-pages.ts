// The face prompt's pages and endpoints:
// - enrolment from the account page (/t/<slug>/account/face): a passkey sign-in of the last five
//   minutes, the tenant's consent text, a few camera frames → enroll; deletion of the template;
// - verification as a step-up factor (/t/<slug>/interaction/:uid/stepup/face): only after a
//   passkey in this interaction or session, against a server-issued, single-use, short-lived
//   active-liveness challenge; rate limits, biometric lockout, audit and metrics; then step-up
//   routing (continueOrFinish) decides where the browser goes next.
// Audit events and logs carry reason codes only: never images, embeddings or scores.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { checkLock, recordFailure, recordSuccess } from '../lockout/index.ts';
import { deleteTemplatesForUser, templateVersions } from '../face/templates/store.ts';
import { FaceTemplateError } from '../face/templates/errors.ts';
import type { AnalysedFrames, FaceFrame, PreparedEnrolment, VerifyResult } from '../face/templates/service.ts';
import { amrForFactor } from '../stepup/factors.ts';
import { refusal, tooManyRequests } from '../errors/http-errors.ts';
import { parseDeclared, sendReply, type Reply, type RouteSpec } from '../http/middleware/guard.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { checkCsrf, htmlResponse, readBody, requestFacts, securePage } from './http.ts';
import { csrfKey, interactionFlow, type Flow, type InteractionDeps } from './flow.ts';
import { consumeStepUpLimits, continueOrFinish, otherWays, stepUpSubject } from './step-up.ts';
import { accountOf, accountSession, type AccountContext } from '../account/session.ts';
import { accountPageReturn, proofData, proofState, recordAccountProof, requireFreshProof } from '../account/fresh-proof.ts';
import { faceEnrolPage, faceVerifyPage } from '../../ui/pages/face.tsx';
import { fill, waitArguments, stringsFor, type Strings } from '../../views/strings/index.ts';
import { ACCOUNT_JSON_ROUTES } from './json-api.ts';
import { replyChecks } from './json-step.ts';
import { dropFaceChallengesOf, hasFaceChallenge, issueFaceChallenge, parseSteps, purgeFaceChallenges, takeFaceChallenge } from '../factors/face/challenges.ts';

/** How recent the account session's passkey sign-in must be to enrol a face. */
export const ENROL_FRESHNESS_MS = 5 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Input: JSON with base64 frames (JPEG/PNG/WebP; the engine checks the format and pixel count),
// declared in json-api.ts (sizes from FACE_UPLOAD in src/config/defaults.ts).

/** Reads a body of pictures at its declared limit (larger than a page's). */
function readPictures(ctx: Context, spec: RouteSpec): Promise<Record<string, unknown>> {
  return readBody(ctx, { limit: spec.bodyLimit, accept: 'json', tooLarge: 'The pictures are too large.' });
}

const decode = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

/**
 * Capture times on the server's clock: the page's clocks may differ from ours, so each frame is
 * placed at (received − (sentAt − at)). Upload time only ever moves frames later, never earlier.
 */
export function serverFrameTimes(frames: Array<{ at: number }>, sentAt: number, receivedAt: number): number[] {
  return frames.map((f) => receivedAt - Math.max(0, sentAt - f.at));
}

/** A face call's success answer, checked against its declaration in development and tests. */
function reply(ctx: Context, deps: InteractionDeps, spec: RouteSpec, answer: Reply): void {
  sendReply(ctx, spec, answer, replyChecks(deps.config));
}

// ---------------------------------------------------------------------------------------------
// Messages: every refusal code the user can meet maps to one plain sentence.

const ENGINE_REJECTIONS = ['no_face', 'multiple_faces', 'face_too_small', 'face_cut_off', 'too_dark', 'too_blurred', 'head_turned', 'image_too_large', 'image_too_many_pixels', 'image_unsupported_format', 'image_corrupt', 'passive_liveness_failed', 'low_quality'];

/** The engine's reason codes of an enrolment that found no usable frame (carried by the error). */
export function enrolRejections(error: FaceTemplateError): string[] {
  return error.reasons.filter((code) => ENGINE_REJECTIONS.includes(code));
}

/** The most useful message for a verification that did not match. */
export function verifyMessage(t: Strings, result: Pick<VerifyResult, 'reasons'>): { code: string; message: string } {
  const { reasons } = result;
  const pick = (code: string) => ({ code, message: t.face.reasons[code] ?? t.errors.generic });
  if (reasons.includes('not_enrolled')) return pick('not_enrolled');
  if (reasons.includes('active_liveness_expired') || reasons.includes('active_liveness_frame_outside_lifetime')) return { code: 'active_liveness_expired', message: t.face.reasons.challenge_gone! };
  if (reasons.includes('no_usable_frame')) {
    const engine = reasons.find((r) => ENGINE_REJECTIONS.includes(r));
    return { code: engine ?? 'no_usable_frame', message: t.face.reasons[engine ?? 'no_face']! };
  }
  if (reasons.includes('passive_liveness_failed')) return pick('passive_liveness_failed');
  const active = reasons.find((r) => r.startsWith('active_liveness_'));
  if (active) return { code: active, message: t.face.reasons.active_failed! };
  if (reasons.includes('below_threshold') || reasons.includes('frames_not_same_person')) return { code: reasons.includes('below_threshold') ? 'below_threshold' : 'frames_not_same_person', message: t.face.reasons.below_threshold! };
  return { code: reasons[0] ?? 'unknown', message: t.errors.generic };
}

// ---------------------------------------------------------------------------------------------
// Enrolment (account page)

/** The fresh-proof state for enrolling a face (src/stepup/fresh-proof.ts). */
async function enrolProof(deps: InteractionDeps, account: AccountContext) {
  return withTenant(deps.db, account.runtime.tenant, (trx) => proofState(trx, account));
}

function consentText(t: Strings, runtime: TenantRuntime): string {
  return runtime.settings.face_consent_text ?? fill(t.face.defaultConsent, { tenant: runtime.tenant.name });
}

async function showEnrol(ctx: Context, deps: InteractionDeps): Promise<void> {
  const account = accountOf(ctx);
  const t = stringsFor(ctx.get('accept-language'));
  const status = deps.services.face.status();
  htmlResponse(
    ctx,
    faceEnrolPage({
      t,
      tenantName: account.runtime.tenant.name,
      logoUrl: account.runtime.settings.logo_url,
      nonce: securePage(ctx),
      csrf: account.csrf,
      base: account.base,
      consent: consentText(t, account.runtime),
      ...(await enrolProof(deps, account).then((proof) => ({
        state: !status.available ? ('unavailable' as const) : proof.fresh ? ('ready' as const) : ('reauth' as const),
        passkeyProof: proof.accepted.includes('passkey'),
      }))),
    }),
  );
}

async function submitEnrol(ctx: Context, deps: InteractionDeps): Promise<void> {
  // The pictures exceed the page body limit: read at the pictures' limit, then CSRF checked here
  // (the route's accountSession has csrf: false).
  const account = accountOf(ctx);
  securePage(ctx);
  const spec = ACCOUNT_JSON_ROUTES.faceEnrol;
  const t = stringsFor(ctx.get('accept-language'));
  const body = await readPictures(ctx, spec);
  checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
  if (body.consent !== true) throw refusal(400, 'consent_required', t.face.consentRequired);
  const input = parseDeclared(spec.body, body, 'body', { detail: t.face.reasons.no_frames! });
  const proof = (await enrolProof(deps, account)).fresh;
  if (!proof) throw refusal(403, 'reauth_required', t.face.reauthNeeded, { redirect: `${account.base}/verify?next=${encodeURIComponent(`${account.base}/face`)}` });
  const limited = await consumeStepUpLimits(deps.services, ctx.ip, account.runtime, account.user.id);
  if (!limited.allowed) throw tooManyRequests(limited.retryAfterSeconds, fill(t.stepUp.tooMany, waitArguments(limited.retryAfterSeconds)));
  const { face } = deps.services;
  if (!face.status().available) throw refusal(503, 'unavailable', t.face.reasons.unavailable!);
  const service = await face.service();
  const facts = requestFacts(ctx);
  const { runtime, user } = account;
  // The engine runs before the transaction opens: no pooled connection waits on a face analysis.
  let prepared: PreparedEnrolment | { refused: string[] };
  try {
    prepared = await service.prepareEnrolment(input.frames.map(decode));
  } catch (error) {
    if (!(error instanceof FaceTemplateError && error.code === 'face_enrol_no_usable_frame')) throw error;
    prepared = { refused: enrolRejections(error) };
  }
  const outcome = await withTenant(deps.db, runtime.tenant, async (trx) => {
    if ('refused' in prepared) {
      const reasons = prepared.refused;
      await appendAudit(trx, { type: 'factor.face.enrol_failed', actor: user.id, subject: user.id, ...facts, data: { reasons } });
      return { ok: false as const, reasons };
    }
    const result = await service.saveEnrolment(trx, user.id, prepared);
    const flagged = Boolean(result.duplicates?.enabled && result.duplicates.matches.length > 0);
    await appendAudit(trx, {
      type: 'factor.face.enrolled',
      actor: user.id,
      subject: user.id,
      ...facts,
      data: { template_id: result.templateId, frames: input.frames.length, rejected: Object.keys(result.rejected), duplicate_flagged: flagged, consent: true, ...proofData(proof) },
    });
    return { ok: true as const, flagged };
  });
  if (!outcome.ok) {
    const code = outcome.reasons[0] ?? 'no_face';
    deps.logger.info({ tenant: runtime.tenant.slug, reasons: outcome.reasons }, 'face enrolment refused');
    throw refusal(400, code, t.face.reasons[code] ?? t.errors.generic, { reasons: outcome.reasons });
  }
  reply(ctx, deps, spec, { status: 200, body: { redirect: `${account.base}?done=${outcome.flagged ? 'faceFlagged' : 'faceAdded'}` } });
}

async function deleteFace(ctx: Context, deps: InteractionDeps): Promise<void> {
  const account = accountOf(ctx);
  const proof = await requireFreshProof(ctx, deps, account, { change: { removing: 'face' }, back: `${account.base}#face` });
  if (!proof) return;
  await withTenant(deps.db, account.runtime.tenant, async (trx) => {
    const removed = await deleteTemplatesForUser(trx, account.user.id);
    await dropFaceChallengesOf(trx, account.user.id);
    if (removed > 0) await appendAudit(trx, { type: 'factor.face.deleted', actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data: { templates: removed, ...proofData(proof) } });
  });
  ctx.status = 303;
  ctx.redirect(`${account.base}?done=faceRemoved`);
}

// ---------------------------------------------------------------------------------------------
// Verification: as a step-up factor inside an interaction, or as the account page's fresh proof
// (an account whose strongest second factor is the face proves it here before changing factors).

/** Where a face check happens: who is checked, where its pages live, and what success leads to. */
interface FaceCheckPlace {
  runtime: TenantRuntime;
  t: Strings;
  /** Binds the challenge and the CSRF token. */
  binding: string;
  csrf: string;
  /** The page's own URL base: `${base}/challenge`, `${base}/verify`. */
  base: string;
  /** Appended to the verify URL (the account page's way back). */
  query: string;
  clientName: string;
  clientId: string | null;
  /** The account being checked, when someone is allowed to be checked here. */
  userId: string | undefined;
  /** Where the browser goes when nobody may be checked here. */
  away: string;
  flow: 'step-up' | 'fresh-proof';
  /** The declarations of this place's challenge and verify calls. */
  routes: { challenge: RouteSpec; verify: RouteSpec };
  /** Step-up only: the interaction's base, other factors that would also do, and the way back to the client. */
  stepUp?: { base: string; others(): Promise<string[]> };
  /** Records the success and returns where the browser goes next. */
  succeeded(ctx: Context, userId: string, at: Date): Promise<string>;
}

/**
 * The user stepping up, if a passkey already counts in this interaction or session: a biometric
 * only ever adds to a device-bound authenticator (NIST SP 800-63B 5.2.3), never stands alone.
 */
async function passkeyHolder(flow: Flow, deps: InteractionDeps): Promise<string | undefined> {
  const subject = await stepUpSubject(flow, deps);
  if (!subject) return undefined;
  if (subject.decision.outcome === 'prompt' && subject.decision.missing.includes('passkey')) return undefined;
  if (subject.decision.outcome === 'unmet') return undefined;
  return subject.userId;
}

async function interactionPlace(ctx: Context, deps: InteractionDeps): Promise<FaceCheckPlace> {
  // Face requests check CSRF themselves, after reading their (larger) bodies.
  const flow = await interactionFlow(ctx, deps, { csrf: false });
  return {
    runtime: flow.runtime,
    t: flow.t,
    binding: flow.binding,
    csrf: flow.csrf,
    base: `${flow.base}/stepup/face`,
    query: '',
    stepUp: {
      base: flow.base,
      others: async () => {
        const subject = await stepUpSubject(flow, deps);
        return subject ? otherWays(flow, subject, 'face') : [];
      },
    },
    clientName: flow.clientName ?? '',
    clientId: flow.details?.clientId ?? null,
    userId: await passkeyHolder(flow, deps),
    away: flow.base,
    flow: 'step-up',
    routes: { challenge: ACCOUNT_JSON_ROUTES.faceChallengeStepUp, verify: ACCOUNT_JSON_ROUTES.faceVerifyStepUp },
    succeeded: (c, userId, at) => continueOrFinish(c, flow, deps, { userId, factor: 'face', amr: amrForFactor('face'), at }),
  };
}

/**
 * The account page's face proof: only for a signed-in user whose accepted proofs include the face.
 * Its routes have accountSession with csrf: false (html only for the page, not the JSON steps).
 */
async function accountPlace(ctx: Context, deps: InteractionDeps): Promise<FaceCheckPlace> {
  const account = accountOf(ctx);
  const next = accountPageReturn(account.base, ctx.query.next);
  const state = await withTenant(deps.db, account.runtime.tenant, (trx) => proofState(trx, account, ctx.query.removing === 'otp' ? { removing: 'otp' } : {}));
  return {
    runtime: account.runtime,
    t: stringsFor(ctx.get('accept-language')),
    binding: account.binding,
    csrf: account.csrf,
    base: `${account.base}/verify/face`,
    query: `?${new URLSearchParams({ next })}`,
    clientName: account.runtime.tenant.name,
    clientId: null,
    userId: state.accepted.includes('face') ? account.user.id : undefined,
    away: `${account.base}/verify?${new URLSearchParams({ next })}`,
    flow: 'fresh-proof',
    routes: { challenge: ACCOUNT_JSON_ROUTES.faceChallengeProof, verify: ACCOUNT_JSON_ROUTES.faceVerifyProof },
    succeeded: async (_c, _userId, at) => {
      await withTenant(deps.db, account.runtime.tenant, (trx) => recordAccountProof(trx, account, { factor: 'face', amr: amrForFactor('face'), at }));
      return next;
    },
  };
}

async function showVerify(ctx: Context, deps: InteractionDeps, place: FaceCheckPlace | undefined): Promise<void> {
  if (!place) return;
  if (!place.userId) {
    ctx.status = 303;
    ctx.redirect(place.away);
    return;
  }
  const status = deps.services.face.status();
  const testSteps = deps.config.testHelpers ? parseSteps(ctx.query.test_steps) : undefined;
  htmlResponse(
    ctx,
    faceVerifyPage({
      t: place.t,
      tenantName: place.runtime.tenant.name,
      logoUrl: place.runtime.settings.logo_url,
      nonce: securePage(ctx),
      csrf: place.csrf,
      base: place.base,
      verifyQuery: place.query,
      clientName: place.clientName,
      available: status.available,
      ...(testSteps ? { testSteps: testSteps.join(',') } : {}),
      ...(place.stepUp ? { stepUp: { base: place.stepUp.base, others: await place.stepUp.others() } } : {}),
    }),
  );
}

async function issueChallenge(ctx: Context, deps: InteractionDeps, place: FaceCheckPlace | undefined): Promise<void> {
  if (!place) return;
  securePage(ctx);
  const spec = place.routes.challenge;
  const raw = await readBody(ctx, { limit: spec.bodyLimit });
  checkCsrf(ctx, csrfKey(deps.config), place.binding, raw.csrf);
  const body = parseDeclared(ACCOUNT_JSON_ROUTES.faceChallengeStepUp.body, raw, 'body');
  const { userId } = place;
  if (!userId) throw refusal(403, 'passkey_required', place.t.face.notSignedIn, { redirect: place.away });
  if (!deps.services.face.status().available) throw refusal(503, 'unavailable', place.t.face.reasons.unavailable!);
  const fixedSteps = deps.config.testHelpers ? parseSteps(body.testSteps) : undefined;
  const challenge = await withTenant(deps.db, place.runtime.tenant, async (trx) => {
    await purgeFaceChallenges(trx);
    return issueFaceChallenge(trx, { binding: place.binding, userId, ...(fixedSteps ? { fixedSteps } : {}) });
  });
  reply(ctx, deps, spec, {
    status: 200,
    body: {
      id: challenge.id,
      ttlMs: challenge.expiresAt - challenge.issuedAt,
      steps: challenge.steps.map((step) => ({ step, text: place.t.face.steps[step] })),
    },
  });
}

async function submitVerify(ctx: Context, deps: InteractionDeps, place: FaceCheckPlace | undefined): Promise<void> {
  if (!place) return;
  securePage(ctx);
  const { t, runtime } = place;
  const spec = place.routes.verify;
  const body = await readPictures(ctx, spec);
  const receivedAt = Date.now();
  checkCsrf(ctx, csrfKey(deps.config), place.binding, body.csrf);
  const input = parseDeclared(ACCOUNT_JSON_ROUTES.faceVerifyStepUp.body, body, 'body', { detail: t.face.reasons.no_frames! });
  const { userId } = place;
  if (!userId) throw refusal(403, 'passkey_required', t.face.notSignedIn, { redirect: place.away });

  const limited = await consumeStepUpLimits(deps.services, ctx.ip, runtime, userId);
  if (!limited.allowed) throw tooManyRequests(limited.retryAfterSeconds, fill(t.stepUp.tooMany, waitArguments(limited.retryAfterSeconds)));
  const { face, metrics } = deps.services;
  if (!face.status().available) {
    metrics.livenessChecks.inc({ tenant: runtime.tenant.slug, outcome: 'error' });
    throw refusal(503, 'unavailable', t.face.reasons.unavailable!);
  }
  const service = await face.service();
  const facts = requestFacts(ctx);
  const { clientId } = place;
  const times = serverFrameTimes(input.frames, input.sentAt, receivedAt);
  const frames: FaceFrame[] = input.frames.map((f, i) => ({ image: decode(f.image), at: times[i]! }));
  const challengeKey = { binding: place.binding, userId, id: input.challengeId };

  // The face analysis (about half a second) runs before the tenant transaction opens, so a burst of
  // face checks cannot hold the pool's connections. A short read first spares the engine when the
  // account is locked or the challenge is gone; the transaction below decides both again, and only
  // its takeFaceChallenge (a DELETE … RETURNING) lets a challenge be used, once.
  const look = await withTenant(deps.db, runtime.tenant, async (trx) => ({
    worth: !(await checkLock(trx, userId, 'face')).locked && (await hasFaceChallenge(trx, challengeKey)),
    // Embed the frames only the ways the user's templates were made (pipeline versions).
    versions: await templateVersions(trx, userId),
  }));
  const worth = look.worth;
  let analysed: AnalysedFrames | undefined;
  if (worth) {
    const started = process.hrtime.bigint();
    try {
      analysed = await service.analyse(frames, { challenge: true, ...(look.versions.length > 0 ? { pipelineVersions: look.versions } : {}) });
    } catch (error) {
      metrics.livenessChecks.inc({ tenant: runtime.tenant.slug, outcome: 'error' });
      throw error;
    }
    metrics.faceMatchDuration.observe({ tenant: runtime.tenant.slug }, Number(process.hrtime.bigint() - started) / 1e9 / Math.max(1, frames.length));
  }

  type Outcome = { ok: true } | { ok: false; code: string; message: string; status: number };
  const outcome = await withTenant(deps.db, runtime.tenant, async (trx): Promise<Outcome> => {
    const fail = async (code: string, message: string, status: number, scores?: Record<string, number>): Promise<Outcome> => {
      const { events } = await recordFailure(trx, { userId, factor: 'face', reason: code, ip: facts.ip, userAgent: facts.userAgent, pad: true, ...(scores ? { scores } : {}) });
      for (const event of events) await appendAudit(trx, { ...event, ...facts });
      await appendAudit(trx, { type: 'factor.face.failed', subject: userId, clientId, ...facts, data: { reason: code } });
      return { ok: false, code, message, status };
    };
    const lock = await checkLock(trx, userId, 'face');
    if (lock.locked) {
      await appendAudit(trx, { type: 'factor.face.failed', subject: userId, clientId, ...facts, data: { reason: 'locked' } });
      return { ok: false, code: 'locked', message: t.face.reasons.locked!, status: 423 };
    }
    const challenge = await takeFaceChallenge(trx, challengeKey);
    if (!challenge) return fail('challenge_gone', t.face.reasons.challenge_gone!, 400);
    // The look before said locked or no challenge, and that changed in between: nothing was
    // analysed, so nothing is counted against the user; they start again with a new challenge.
    if (!analysed) return { ok: false, code: 'challenge_gone', message: t.face.reasons.challenge_gone!, status: 400 };
    let result: VerifyResult;
    try {
      result = await service.verifyAnalysed(trx, userId, analysed, challenge);
    } catch (error) {
      metrics.livenessChecks.inc({ tenant: runtime.tenant.slug, outcome: 'error' });
      if (error instanceof FaceTemplateError && error.code === 'face_template_model_mismatch') return fail('model_mismatch', t.face.reasons.model_mismatch!, 409);
      throw error;
    }
    if (result.liveness.passive !== null) metrics.livenessChecks.inc({ tenant: runtime.tenant.slug, outcome: result.liveness.reasons.length === 0 ? 'live' : 'spoof' });
    if (!result.match) {
      const { code, message } = verifyMessage(t, result);
      const scores = { similarity: Number(result.similarity.toFixed(3)), ...(result.liveness.passive !== null ? { passive: Number(result.liveness.passive.toFixed(3)) } : {}) };
      return fail(code, message, 400, scores);
    }
    await recordSuccess(trx, userId, 'face');
    await appendAudit(trx, { type: 'factor.face.verified', actor: userId, subject: userId, clientId, ...facts, data: { challenge_steps: challenge.steps.length, frames: frames.length, flow: place.flow } });
    return { ok: true };
  });
  if (!outcome.ok) {
    deps.logger.info({ tenant: runtime.tenant.slug, reason: outcome.code }, 'face check refused');
    throw refusal(outcome.status, outcome.code, outcome.message);
  }
  reply(ctx, deps, spec, { status: 200, body: { redirect: await place.succeeded(ctx, userId, new Date(receivedAt)) } });
}

export function registerFaceRoutes(router: Router, deps: InteractionDeps): void {
  router.get('/account/face', accountSession(deps), (ctx) => showEnrol(ctx, deps));
  router.post(ACCOUNT_JSON_ROUTES.faceEnrol.path, accountSession(deps, { html: false, csrf: false }), (ctx) => submitEnrol(ctx, deps));
  router.post('/account/face/delete', accountSession(deps), (ctx) => deleteFace(ctx, deps));
  router.get('/interaction/:uid/stepup/face', async (ctx) => showVerify(ctx, deps, await interactionPlace(ctx, deps)));
  router.post(ACCOUNT_JSON_ROUTES.faceChallengeStepUp.path, async (ctx) => issueChallenge(ctx, deps, await interactionPlace(ctx, deps)));
  router.post(ACCOUNT_JSON_ROUTES.faceVerifyStepUp.path, async (ctx) => submitVerify(ctx, deps, await interactionPlace(ctx, deps)));
  // The account page's fresh proof with the face (src/account/fresh-proof.ts).
  router.get('/account/verify/face', accountSession(deps, { csrf: false }), async (ctx) => showVerify(ctx, deps, await accountPlace(ctx, deps)));
  router.post(ACCOUNT_JSON_ROUTES.faceChallengeProof.path, accountSession(deps, { html: false, csrf: false }), async (ctx) => issueChallenge(ctx, deps, await accountPlace(ctx, deps)));
  router.post(ACCOUNT_JSON_ROUTES.faceVerifyProof.path, accountSession(deps, { html: false, csrf: false }), async (ctx) => submitVerify(ctx, deps, await accountPlace(ctx, deps)));
}
