// Signing up: username, email, display name (and an invitation when the tenant wants one), then a
// passkey at once. The account row is created only when the passkey verifies, in the same
// transaction as the credential and the invitation's redemption.
import { randomBytes } from 'node:crypto';
import { FacetError } from '../errors/facet-error.ts';
import type { Context } from 'koa';
import { z } from 'zod';
import { withTenant, type TenantDb } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { createUserWithHandle, findLiveUserByEmail, findLiveUserById, findLiveUserByUsername } from '../accounts/users.ts';
import { ANY_EMAIL, checkInvite, redeemInvite } from '../accounts/invites.ts';
import { grantRole, type Role } from '../admin/roles.ts';
import {
  finishRegistration,
  insertCredential,
  passkeyAmr,
  PASSKEY_ACR,
  relyingPartyFor,
  startRegistration,
  type RegistrationResponseJSON,
} from '../factors/passkey/index.ts';
import { createPasskeyPage, signUpPage, type SignUpValues } from '../../ui/pages/interaction.tsx';
import { HttpError, refusal } from '../errors/http-errors.ts';
import { htmlResponse, readBody, requestFacts, securePage } from './http.ts';
import { respondRateLimited } from '../http/error-responder.ts';
import { pageContext, type Flow, type InteractionDeps } from './flow.ts';
import { loadPending, savePending, takePending } from './pending.ts';
import { passkeyMessage } from './messages.ts';
import { FLOW_JSON_ROUTES } from './json-api.ts';
import { jsonStep } from './json-step.ts';
import { continueOrFinish } from './step-up.ts';
import { consumeAccountLimits } from './account-limits.ts';
import { fill, waitArguments } from '../../views/strings/index.ts';
import { amrForFactor } from '../stepup/index.ts';

const USERNAME = /^[A-Za-z0-9._-]{3,40}$/;

function policy(flow: Flow): 'open' | 'invite' | 'closed' {
  return flow.runtime.settings.signup;
}

function closed(flow: Flow): HttpError {
  return new HttpError(403, 'signup_closed', flow.t.signUp.title, flow.t.signUp.closed);
}

export async function showSignUp(ctx: Context, flow: Flow): Promise<void> {
  if (policy(flow) === 'closed') throw closed(flow);
  const invite = typeof ctx.query.invite === 'string' ? ctx.query.invite : undefined;
  htmlResponse(ctx, signUpPage(pageContext(ctx, flow), { values: { ...(invite ? { invite } : {}) }, inviteField: policy(flow) === 'invite' }));
}

const signUpBody = z.object({
  csrf: z.string(),
  username: z.string().trim().default(''),
  email: z.string().trim().default(''),
  displayName: z.string().trim().default(''),
  invite: z.string().trim().default(''),
});

export async function submitSignUp(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  if (policy(flow) === 'closed') throw closed(flow);
  const body = await readBody(ctx);
  const input = { csrf: body.csrf, username: body.username, email: body.email, displayName: body.displayName, invite: body.invite };
  // A field sent as a JSON array, object or number is not text (was a ZodError: 500).
  const notText = (['username', 'email', 'displayName', 'invite'] as const).filter((name) => input[name] !== undefined && typeof input[name] !== 'string');
  if (notText.length > 0) throw new HttpError(400, 'invalid_request', 'Invalid request', `${notText.join(', ')} must be text.`);
  const values = signUpBody.parse(input);
  const { t } = flow;
  const errors: Partial<Record<keyof SignUpValues, string>> = {};
  if (!USERNAME.test(values.username)) errors.username = t.signUp.usernameInvalid;
  if (!z.email().safeParse(values.email).success) errors.email = t.signUp.emailInvalid;
  if (values.displayName.length > 100) errors.displayName = t.signUp.displayNameInvalid;
  const { runtime } = flow;
  const limited = await consumeAccountLimits(deps.services, runtime, 'signup.account', [values.username, values.email]);
  if (!limited.allowed) {
    const detail = fill(t.stepUp.tooMany, waitArguments(limited.retryAfterSeconds));
    return respondRateLimited(ctx, limited.retryAfterSeconds, { detail, page: () => htmlResponse(ctx, signUpPage(pageContext(ctx, flow), { values, errors: { username: detail }, inviteField: policy(flow) === 'invite' }), 429) });
  }
  await withTenant(deps.db, runtime.tenant, async (trx) => {
    if (!errors.username && (await findLiveUserByUsername(trx, values.username))) errors.username = t.signUp.usernameTaken;
    if (!errors.email && (await findLiveUserByEmail(trx, values.email))) errors.email = t.signUp.emailTaken;
    // An invite is required where sign-up is by invitation; where it is open, a link that carries
    // one (a console role, for instance) is checked and redeemed all the same.
    if (policy(flow) === 'invite' || values.invite) {
      const reason = await inviteProblem(trx, flow, deps, values.invite, values.email);
      if (reason) errors.invite = reason;
    }
    if (Object.keys(errors).length > 0) return;
    await savePending(trx, flow.binding, {
      step: 'signup',
      signup: {
        username: values.username,
        email: values.email,
        displayName: values.displayName || null,
        handle: randomBytes(32).toString('base64url'),
        invite: policy(flow) === 'invite' || values.invite ? values.invite : null,
      },
    });
  });
  if (Object.keys(errors).length > 0) {
    htmlResponse(ctx, signUpPage(pageContext(ctx, flow), { values, errors, inviteField: policy(flow) === 'invite' }), 400);
    return;
  }
  ctx.status = 303;
  ctx.redirect(`${flow.base}/create-passkey`);
}

async function inviteProblem(trx: TenantDb, flow: Flow, deps: InteractionDeps, token: string, email: string): Promise<string | undefined> {
  const { t } = flow;
  if (!token) return t.signUp.inviteRequired;
  const checked = await checkInvite(trx, { token, slug: flow.runtime.tenant.slug, key: deps.config.cookieKeys[0]! });
  if (!checked.ok) return checked.reason === 'expired' ? t.signUp.inviteExpired : checked.reason === 'used' ? t.signUp.inviteUsed : t.signUp.inviteInvalid;
  // An invite made for nobody in particular (ANY_EMAIL: the development start banner's first-admin link) fits any address.
  if (checked.email !== ANY_EMAIL && checked.email.toLowerCase() !== email.toLowerCase()) return t.signUp.inviteEmailMismatch;
  return undefined;
}

export async function showCreatePasskey(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const pending = await withTenant(deps.db, flow.runtime.tenant, (trx) => loadPending(trx, flow.binding));
  if (!pending || pending.step === 'show-codes') throw new HttpError(400, 'pending_gone', flow.t.createPasskey.title, flow.t.errors.pendingGone);
  htmlResponse(ctx, createPasskeyPage(pageContext(ctx, flow), { mode: pending.step === 'signup' ? 'signup' : 'add' }));
}

export const registerOptions = jsonStep(FLOW_JSON_ROUTES.registerOptions, async (ctx, flow, deps) => {
  const { runtime } = flow;
  const rp = relyingPartyFor(deps.config.publicUrl, { name: runtime.tenant.name, settings: runtime.settings });
  const options = await withTenant(deps.db, runtime.tenant, async (trx) => {
    const pending = await loadPending(trx, flow.binding);
    if (!pending || pending.step === 'show-codes') return undefined;
    let user;
    if (pending.step === 'signup') {
      const s = pending.signup;
      user = { handle: s.handle, username: s.username, displayName: s.displayName ?? s.username };
    } else {
      const existing = await findLiveUserById(trx, pending.login.userId);
      if (!existing) return undefined;
      user = { id: existing.id, handle: existing.webauthn_user_handle, username: existing.username, displayName: existing.display_name ?? existing.username };
    }
    return startRegistration(trx, { rp, binding: flow.binding, user, userVerification: runtime.settings.user_verification, attestation: runtime.settings.attestation ?? { mode: 'none' } });
  });
  if (!options) throw refusal(400, 'pending_gone', flow.t.errors.pendingGone);
  securePage(ctx);
  return { status: 200, body: options };
});

class RollBack extends FacetError {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

export const registerVerify = jsonStep(FLOW_JSON_ROUTES.registerVerify, async (ctx, flow, deps, { body: input }) => {
  const { runtime } = flow;
  const { t } = flow;
  const rp = relyingPartyFor(deps.config.publicUrl, { name: runtime.tenant.name, settings: runtime.settings });
  const facts = requestFacts(ctx);
  const at = new Date();
  let outcome: { ok: true; next: string; finish?: import('./pending.ts').CompletedLogin } | { ok: false; code: string; message: string };
  try {
    outcome = await withTenant(deps.db, runtime.tenant, async (trx) => {
      const pending = await loadPending(trx, flow.binding, at);
      if (!pending || pending.step === 'show-codes') return { ok: false as const, code: 'pending_gone', message: t.errors.pendingGone };
      const verified = await finishRegistration(trx, {
        rp,
        binding: flow.binding,
        response: input.response as unknown as RegistrationResponseJSON,
        userVerification: runtime.settings.user_verification,
        attestation: runtime.settings.attestation ?? { mode: 'none' },
        now: at,
      });
      if (!verified.ok) {
        await appendAudit(trx, {
          type: 'passkey.registration_failed',
          subject: pending.step === 'signup' ? null : pending.login.userId,
          ...facts,
          data: { reason: verified.code, detail: verified.detail, flow: flow.kind },
        });
        return { ok: false as const, code: verified.code, message: passkeyMessage(t, verified.code, runtime.tenant.name) };
      }
      const { passkey } = verified;
      let userId: string;
      let handle: string;
      if (pending.step === 'signup') {
        const s = pending.signup;
        // Checked again here: another sign-up may have taken the name meanwhile.
        if (await findLiveUserByUsername(trx, s.username)) throw new RollBack('username_taken');
        if (await findLiveUserByEmail(trx, s.email)) throw new RollBack('email_taken');
        const user = await createUserWithHandle(trx, { username: s.username, email: s.email, displayName: s.displayName, webauthnUserHandle: s.handle });
        userId = user.id;
        handle = user.webauthn_user_handle;
        if (s.invite) {
          const redeemed = await redeemInvite(trx, { token: s.invite, slug: runtime.tenant.slug, key: deps.config.cookieKeys[0]!, userId, now: at });
          if (!redeemed.ok) throw new RollBack(`invite_${redeemed.reason}`);
          await appendAudit(trx, { type: 'invite.redeemed', actor: userId, subject: userId, ...facts, data: { invite_id: redeemed.id } });
          if (redeemed.role) await grantRole(trx, { userId, role: redeemed.role as Role, source: 'invite', actor: `invite:${redeemed.id}` });
        }
        await appendAudit(trx, { type: 'user.signed_up', actor: userId, subject: userId, ...facts, data: { username: s.username, flow: flow.kind } });
      } else {
        const user = await findLiveUserById(trx, pending.login.userId);
        if (!user) throw new RollBack('pending_gone');
        userId = user.id;
        handle = user.webauthn_user_handle;
      }
      const stored = await insertCredential(trx, {
        userId,
        credentialId: passkey.credentialId,
        publicKey: passkey.publicKey,
        signCount: passkey.signCount,
        transports: passkey.transports,
        aaguid: passkey.aaguid,
        attestationFormat: passkey.attestationFormat,
        backupEligible: passkey.backupEligible,
        backupState: passkey.backupState,
        name: `Passkey ${at.toISOString().slice(0, 10)}`,
        userHandle: handle,
      });
      await appendAudit(trx, {
        type: 'passkey.registered',
        actor: userId,
        subject: userId,
        ...facts,
        data: { credential_id: stored.credentialId, aaguid: stored.aaguid, backup_eligible: stored.backupEligible, backup_state: stored.backupState, fmt: stored.attestationFormat },
      });
      if (pending.step === 'signup') {
        const login = {
          userId,
          amr: passkeyAmr({ backupEligible: passkey.backupEligible, userVerified: passkey.userVerified }),
          acr: PASSKEY_ACR,
          authTime: Math.floor(at.getTime() / 1000),
        };
        await savePending(trx, flow.binding, { step: 'show-codes', login }, at);
        return { ok: true as const, next: `${flow.base}/recovery-codes` };
      }
      await takePending(trx, flow.binding, at);
      // After a recovery code: the new passkey is not a sign-in. What the login proved is the
      // recovery code; continueOrFinish caps it and asks for a passkey sign-in if more is needed.
      return { ok: true as const, next: '', finish: pending.login };
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
    const messages: Record<string, string> = {
      username_taken: t.signUp.usernameTaken,
      email_taken: t.signUp.emailTaken,
      invite_used: t.signUp.inviteUsed,
      invite_expired: t.signUp.inviteExpired,
      invite_invalid: t.signUp.inviteInvalid,
      pending_gone: t.errors.pendingGone,
    };
    outcome = { ok: false, code: error.code, message: messages[error.code] ?? t.errors.generic };
  }
  deps.services.metrics.registrations.inc({ tenant: runtime.tenant.slug, outcome: outcome.ok ? 'success' : outcome.code });
  if (!outcome.ok) throw refusal(400, outcome.code, outcome.message);
  const redirect = outcome.finish
    ? await continueOrFinish(ctx, flow, deps, { userId: outcome.finish.userId, factor: 'recovery_code', amr: amrForFactor('recovery_code'), at: new Date(outcome.finish.authTime * 1000) })
    : outcome.next;
  return { status: 200, body: { redirect } };
});
