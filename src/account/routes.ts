// The account page (/t/<slug>/account): passkeys (list, rename, add, remove — never the last way
// to sign in), recovery codes left, recent sign-ins, sign out here or everywhere.
//
// Session: the page's own cookie (see sessions.ts), opened by the sign-in steps at
// /t/<slug>/account/sign-in. Every POST carries a CSRF token bound to that session.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { sql } from 'kysely';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { issueRecoveryCodes, remainingRecoveryCodes } from '../accounts/recovery-codes.ts';
import { signOutEverywhere } from '../accounts/lifecycle.ts';
import {
  finishRegistration,
  insertCredential,
  listCredentials,
  relyingPartyFor,
  removeCredential,
  renameCredential,
  startRegistration,
  type RegistrationResponseJSON,
} from '../factors/passkey/index.ts';
import { accountPage } from '../../views/account.ts';
import { recoveryCodesPage } from '../../views/pages.ts';
import { stringsFor } from '../../views/strings/index.ts';
import { checkCsrf, htmlResponse, readBody, requestFacts, securePage } from '../interaction/http.ts';
import { ACCOUNT_COOKIE, accountCookieOptions, csrfKey, type InteractionDeps } from '../interaction/flow.ts';
import { jsonError } from '../interaction/sign-in.ts';
import { passkeyMessage } from '../interaction/messages.ts';
import { closeAccountSession } from './sessions.ts';
import type { Services } from '../services.ts';
import { requireSession, type AccountContext } from './session.ts';
import { accountFactorSections, registerAccountFactorRoutes } from './factor-routes.ts';
import { registerProofRoutes } from './proof-routes.ts';
import { proofData, requireFreshProof } from './fresh-proof.ts';
import { backchannelTargetsOf, sendBackchannelLogouts } from '../oidc/backchannel-logout.ts';

/** Audit events that change how the account signs in: the page's "security changes" list. */
const SECURITY_CHANGES = [
  'passkey.registered',
  'passkey.removed',
  'factor.otp.enrolled',
  'factor.otp.removed',
  'factor.nfc.enrolled',
  'factor.nfc.removed',
  'factor.face.enrolled',
  'factor.face.deleted',
  'recovery_code.issued',
  'recovery_codes.issued', // the spelling before the event catalogue
];

const NOTICES = ['renamed', 'removed', 'added'] as const;
const FACE_NOTICES = { faceAdded: 'added', faceRemoved: 'removedNotice', faceFlagged: 'duplicateFlagged' } as const;

async function showAccount(ctx: Context, deps: InteractionDeps, account: AccountContext, { error, status = 200 }: { error?: string; status?: number } = {}) {
  const t = stringsFor(ctx.get('accept-language'));
  const { runtime, user } = account;
  const data = await withTenant(deps.db, runtime.tenant, async (trx) => ({
    passkeys: await listCredentials(trx, user.id),
    recoveryRemaining: await remainingRecoveryCodes(trx, user.id),
    faceEnrolled: Boolean(await trx.selectFrom('face_templates').select('id').where('user_id', '=', user.id).executeTakeFirst()),
    factorSections: await accountFactorSections(ctx, trx, { userId: user.id, csrf: account.csrf, base: account.base, services: deps.services }),
    signIns: await trx
      .selectFrom('audit_events')
      .select(['at', 'ip', 'user_agent', 'type', sql<string>`data->>'flow'`.as('flow')])
      .where('subject', '=', user.id)
      .where('type', 'in', ['passkey.sign_in', 'recovery_code.used'])
      .orderBy('id', 'desc')
      .limit(10)
      .execute(),
    securityChanges: await trx
      .selectFrom('audit_events')
      .select(['at', 'type', sql<string | null>`data->'proof'->>'factor'`.as('proof')])
      .where('subject', '=', user.id)
      .where('type', 'in', SECURITY_CHANGES)
      .orderBy('id', 'desc')
      .limit(10)
      .execute(),
  }));
  const done = NOTICES.find((n) => n === ctx.query.done);
  const faceDone = Object.hasOwn(FACE_NOTICES, String(ctx.query.done)) ? t.face[FACE_NOTICES[ctx.query.done as keyof typeof FACE_NOTICES]] : undefined;
  htmlResponse(
    ctx,
    accountPage({
      t,
      tenantName: runtime.tenant.name,
      logoUrl: runtime.settings.logo_url,
      nonce: securePage(ctx),
      csrf: account.csrf,
      base: account.base,
      userName: user.display_name ?? user.username,
      passkeys: data.passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, backupEligible: p.backupEligible })),
      recoveryRemaining: data.recoveryRemaining,
      signIns: data.signIns.map((s) => ({
        at: new Date(s.at),
        ip: (s.ip as string | null) ?? null,
        userAgent: (s.user_agent as string | null) ?? null,
        method: t.account.methods[s.type === 'passkey.sign_in' ? 'passkey' : 'recovery']!,
      })),
      face: { enrolled: data.faceEnrolled, available: deps.services.face.status().available },
      factorSections: data.factorSections,
      securityChanges: data.securityChanges.map((c) => ({ at: new Date(c.at), type: c.type, proof: (c.proof as string | null) ?? null })),
      notice: done ? t.account[done] : faceDone,
      error,
    }),
    status,
  );
}

export function registerAccountRoutes(router: Router, deps: InteractionDeps): void {
  router.get('/account', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (account) await showAccount(ctx, deps, account);
  });

  router.post('/account/passkeys/:id/rename', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const t = stringsFor(ctx.get('accept-language'));
    if (name.length < 1 || name.length > 60) return showAccount(ctx, deps, account, { error: t.account.nameInvalid, status: 400 });
    await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      if (await renameCredential(trx, account.user.id, ctx.params.id!, name)) {
        await appendAudit(trx, { type: 'passkey.renamed', actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data: { id: ctx.params.id, name } });
      }
    });
    ctx.status = 303;
    ctx.redirect(`${account.base}?done=renamed`);
  });

  router.post('/account/passkeys/:id/remove', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const proof = await requireFreshProof(ctx, deps, account, { change: { removing: 'passkey' } });
    if (!proof) return;
    const t = stringsFor(ctx.get('accept-language'));
    const removed = await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      // Passkeys are the only way to sign in (recovery codes only lead to enrolling a new one),
      // so the last passkey stays. Locked in the same transaction as the delete.
      await sql`select id from users where id = ${account.user.id} for update`.execute(trx);
      const passkeys = await listCredentials(trx, account.user.id);
      if (passkeys.length <= 1) return 'last';
      const gone = await removeCredential(trx, account.user.id, ctx.params.id!);
      if (!gone) return 'missing';
      await appendAudit(trx, { type: 'passkey.removed', actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data: { credential_id: gone.credentialId, ...proofData(proof) } });
      return 'removed';
    });
    if (removed === 'last') return showAccount(ctx, deps, account, { error: t.account.lastPasskey, status: 409 });
    ctx.status = 303;
    ctx.redirect(`${account.base}?done=removed`);
  });

  router.post('/account/passkeys/options', async (ctx) => {
    const account = await requireSession(ctx, deps, { html: false });
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    if (!(await requireFreshProof(ctx, deps, account, { json: true }))) return;
    const { runtime, user } = account;
    const rp = relyingPartyFor(deps.config.publicUrl, { name: runtime.tenant.name, settings: runtime.settings });
    const options = await withTenant(deps.db, runtime.tenant, (trx) =>
      startRegistration(trx, {
        rp,
        binding: account.binding,
        user: { id: user.id, handle: user.webauthn_user_handle, username: user.username, displayName: user.display_name ?? user.username },
        userVerification: runtime.settings.user_verification,
        attestation: runtime.settings.attestation ?? { mode: 'none' },
      }),
    );
    securePage(ctx);
    ctx.body = options;
  });

  router.post('/account/passkeys/verify', async (ctx) => {
    const account = await requireSession(ctx, deps, { html: false });
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const proof = await requireFreshProof(ctx, deps, account, { json: true });
    if (!proof) return;
    const { runtime, user } = account;
    const t = stringsFor(ctx.get('accept-language'));
    if (!body.response || typeof body.response !== 'object') return jsonError(ctx, 400, t.errors.generic, 'bad_request');
    const rp = relyingPartyFor(deps.config.publicUrl, { name: runtime.tenant.name, settings: runtime.settings });
    const facts = requestFacts(ctx);
    const at = new Date();
    const result = await withTenant(deps.db, runtime.tenant, async (trx) => {
      const verified = await finishRegistration(trx, {
        rp,
        binding: account.binding,
        response: body.response as RegistrationResponseJSON,
        userVerification: runtime.settings.user_verification,
        attestation: runtime.settings.attestation ?? { mode: 'none' },
        now: at,
      });
      if (!verified.ok) {
        await appendAudit(trx, { type: 'passkey.registration_failed', subject: user.id, ...facts, data: { reason: verified.code, detail: verified.detail, flow: 'account' } });
        return verified;
      }
      const p = verified.passkey;
      const stored = await insertCredential(trx, {
        userId: user.id,
        credentialId: p.credentialId,
        publicKey: p.publicKey,
        signCount: p.signCount,
        transports: p.transports,
        aaguid: p.aaguid,
        attestationFormat: p.attestationFormat,
        backupEligible: p.backupEligible,
        backupState: p.backupState,
        name: `Passkey ${at.toISOString().slice(0, 10)}`,
        userHandle: user.webauthn_user_handle,
      });
      await appendAudit(trx, {
        type: 'passkey.registered',
        actor: user.id,
        subject: user.id,
        ...facts,
        data: { credential_id: stored.credentialId, aaguid: stored.aaguid, backup_eligible: stored.backupEligible, backup_state: stored.backupState, fmt: stored.attestationFormat, ...proofData(proof) },
      });
      return verified;
    });
    if (!result.ok) return jsonError(ctx, 400, passkeyMessage(t, result.code, runtime.tenant.name), result.code);
    ctx.body = { redirect: `${account.base}?done=added` };
  });

  router.post('/account/sign-out', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    await withTenant(deps.db, account.runtime.tenant, (trx) => closeAccountSession(trx, account.token));
    ctx.cookies.set(ACCOUNT_COOKIE, null, accountCookieOptions(deps.config, account.runtime));
    ctx.status = 303;
    ctx.redirect(`${account.base}/sign-in`);
  });

  router.post('/account/sign-out-everywhere', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const targets = await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      const listeners = await backchannelTargetsOf(trx, account.user.id);
      const revoked = await signOutEverywhere(trx, account.user.id);
      await appendAudit(trx, { type: 'account.signed_out_everywhere', actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data: revoked });
      return listeners;
    });
    // Relying parties with a backchannel_logout_uri hear of it once the sessions are gone.
    await sendBackchannelLogouts(account.runtime.provider, targets, (err, target) => deps.logger.warn({ err, clientId: target.clientId }, 'back-channel logout not delivered'));
    ctx.cookies.set(ACCOUNT_COOKIE, null, accountCookieOptions(deps.config, account.runtime));
    ctx.status = 303;
    ctx.redirect(`${account.base}/sign-in`);
  });
  // New recovery codes: the old set dies at once, the new one is shown once.
  router.post('/account/recovery-codes', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const proof = await requireFreshProof(ctx, deps, account);
    if (!proof) return;
    const codes = await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      const issued = await issueRecoveryCodes(trx, account.user.id);
      await appendAudit(trx, { type: 'recovery_code.issued', actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data: { count: issued.length, ...proofData(proof) } });
      return issued;
    });
    const t = stringsFor(ctx.get('accept-language'));
    htmlResponse(
      ctx,
      recoveryCodesPage({ t, tenantName: account.runtime.tenant.name, logoUrl: account.runtime.settings.logo_url, nonce: securePage(ctx), csrf: account.csrf, base: account.base }, { codes, doneHref: account.base }),
    );
  });

  registerAccountFactorRoutes(router, deps);
  registerProofRoutes(router, deps);
}

export type { AccountContext };
