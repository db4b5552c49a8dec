// The account page (/t/<slug>/account): passkeys (list, rename, add, remove — never the last way
// to sign in), recovery codes left, recent sign-ins, sign out here or everywhere.
//
// Session: the page's own cookie (see sessions.ts), opened by the sign-in steps at
// /t/<slug>/account/sign-in. Every POST carries a CSRF token bound to that session.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { issueRecoveryCodes, remainingRecoveryCodes } from '../accounts/recovery-codes.ts';
import { signOutEverywhere } from '../accounts/lifecycle.ts';
import { lockUserRow } from '../accounts/users.ts';
import { recentSecurityChanges, recentSignIns, type SecurityChangeRow, type SignInRow } from '../audit/account-activity.ts';
import { hasTemplates } from '../face/templates/store.ts';
import { forgetSessionFactors } from '../stepup/session-factors.ts';
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
import { accountPage, confirmPage } from '../../ui/pages/account.tsx';
import { otpRemoveFields } from '../../ui/pages/step-up.tsx';
import { listRememberedConsents, forgetConsent } from '../accounts/consents.ts';
import { endGrantsOfClient, endSessionOf, sessionsOf } from '../oidc/records.ts';
import { defaultPasskeyName, passkeyDisplayName, passkeyProviderName } from '../factors/passkey/providers.ts';
import { deviceOf } from './device-name.ts';
import { recoveryCodesPage } from '../../ui/pages/interaction.tsx';
import { fill, stringsFor, type Strings } from '../../views/strings/index.ts';
import { htmlResponse, readBody, requestFacts, securePage } from '../interaction/http.ts';
import { ACCOUNT_COOKIE, accountCookieOptions, type InteractionDeps } from '../interaction/flow.ts';
import { ACCOUNT_JSON_ROUTES } from '../interaction/json-api.ts';
import { runDeclared } from '../interaction/json-step.ts';
import { refusal } from '../errors/http-errors.ts';
import { passkeyMessage } from '../interaction/messages.ts';
import { closeAccountSession } from './sessions.ts';
import { accountOf, accountSession, type AccountContext } from './session.ts';
import { accountFactorSections, registerAccountFactorRoutes } from './factor-routes.ts';
import { registerProofRoutes } from './proof-routes.ts';
import { proofData, requireFreshProof } from './fresh-proof.ts';
import { backchannelTargetsOf, sendBackchannelLogouts } from '../oidc/backchannel-logout.ts';

const NOTICES = ['renamed', 'removed', 'added', 'sessionEnded', 'appRevoked'] as const;
const FACE_NOTICES = { faceAdded: 'added', faceRemoved: 'removedNotice', faceFlagged: 'duplicateFlagged' } as const;

/** One sign-in or step-up: for which application, with which factor (strings account.activity). */
function signInLabel(t: Strings, s: SignInRow, app: string | undefined): string {
  const factor = t.securityChanges.factors[s.factor] ?? s.factor;
  const a = t.account.activity;
  if (s.flow === 'fresh-proof') return fill(a.freshProof, { factor });
  if (s.flow === 'account' && !app) return fill(a.signInAccount, { factor });
  if (!app) return fill(a.other, { factor });
  return fill(s.flow === 'step-up' ? a.stepUp : a.signIn, { app, factor });
}

/** What a security change concerns (the method, the application) and whether an administrator made it. */
function changeDetail(t: Strings, c: SecurityChangeRow, app: string | undefined): string | undefined {
  const parts = [c.factor ? (t.securityChanges.subjects[c.factor] ?? c.factor) : undefined, app, c.by === 'administrator' ? t.securityChanges.byAdministrator : undefined];
  const shown = parts.filter((p): p is string => Boolean(p));
  return shown.length ? shown.join(', ') : undefined;
}

async function showAccount(ctx: Context, deps: InteractionDeps, account: AccountContext, { error, status = 200 }: { error?: string; status?: number } = {}) {
  const t = stringsFor(ctx.get('accept-language'));
  const { runtime, user } = account;
  const data = await withTenant(deps.db, runtime.tenant, async (trx) => ({
    passkeys: await listCredentials(trx, user.id),
    recoveryRemaining: await remainingRecoveryCodes(trx, user.id),
    faceEnrolled: await hasTemplates(trx, user.id),
    factorSections: await accountFactorSections(ctx, trx, { userId: user.id, csrf: account.csrf, base: account.base, services: deps.services }),
    signIns: await recentSignIns(trx, user.id),
    sessions: await sessionsOf(trx, user.id),
    apps: await listRememberedConsents(trx, user.id),
    securityChanges: await recentSecurityChanges(trx, user.id),
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
      passkeys: data.passkeys.map((p) => ({
        id: p.id,
        name: passkeyDisplayName(p.name, p.aaguid),
        provider: passkeyProviderName(p.aaguid),
        createdAt: p.createdAt,
        lastUsedAt: p.lastUsedAt,
        backupEligible: p.backupEligible,
      })),
      recoveryRemaining: data.recoveryRemaining,
      // A coarse device name, never the raw User-Agent; "this device" when the browser is the same.
      // Each names the application (its client_name) and the factor proved.
      signIns: await Promise.all(
        data.signIns.map(async (s) => ({
          at: s.at,
          device: deviceOf(s.userAgent),
          thisDevice: Boolean(s.userAgent) && s.userAgent === ctx.get('user-agent'),
          method: signInLabel(t, s, s.clientId ? ((await runtime.oidc.client(s.clientId))?.name ?? s.clientId) : undefined),
          factor: s.factor,
        })),
      ),
      sessions: await Promise.all(
        data.sessions.map(async (session) => ({
          uid: session.uid,
          since: session.loginTs ? new Date(session.loginTs * 1000) : undefined,
          apps: await Promise.all(session.clientIds.map(async (id) => (await runtime.oidc.client(id))?.name ?? id)),
        })),
      ),
      apps: await Promise.all(
        data.apps.map(async (app) => ({
          clientId: app.clientId,
          name: (await runtime.oidc.client(app.clientId))?.name ?? app.clientId,
          access: [...app.scopes.map((scope) => t.consent.scopes[scope] ?? scope), ...Object.values(app.resources).flat()],
          since: app.updatedAt,
        })),
      ),
      face: { enrolled: data.faceEnrolled, available: deps.services.face.status().available },
      factorSections: data.factorSections,
      securityChanges: await Promise.all(
        data.securityChanges.map(async (c) => ({
          ...c,
          detail: changeDetail(t, c, c.clientId ? ((await runtime.oidc.client(c.clientId))?.name ?? c.clientId) : undefined),
        })),
      ),
      notice: done ? t.account[done] : faceDone,
      error,
    }),
    status,
  );
}

export function registerAccountRoutes(router: Router, deps: InteractionDeps): void {
  router.get('/account', accountSession(deps), async (ctx) => {
    await showAccount(ctx, deps, accountOf(ctx));
  });

  router.post('/account/passkeys/:id/rename', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const body = await readBody(ctx);
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

  router.post('/account/passkeys/:id/remove', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const proof = await requireFreshProof(ctx, deps, account, { change: { removing: 'passkey' } });
    if (!proof) return;
    const t = stringsFor(ctx.get('accept-language'));
    const removed = await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      // Passkeys are the only way to sign in (recovery codes only lead to enrolling a new one),
      // so the last passkey stays. Locked in the same transaction as the delete.
      await lockUserRow(trx, account.user.id);
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

  router.post(ACCOUNT_JSON_ROUTES.addPasskeyOptions.path, accountSession(deps, { html: false }), async (ctx) => {
    const account = accountOf(ctx);
    if (!(await requireFreshProof(ctx, deps, account, { json: true }))) return;
    await runDeclared(ctx, ACCOUNT_JSON_ROUTES.addPasskeyOptions, deps.config, async () => {
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
      return { status: 200, body: options };
    });
  });

  router.post(ACCOUNT_JSON_ROUTES.addPasskeyVerify.path, accountSession(deps, { html: false }), async (ctx) => {
    const account = accountOf(ctx);
    const proof = await requireFreshProof(ctx, deps, account, { json: true });
    if (!proof) return;
    await runDeclared(ctx, ACCOUNT_JSON_ROUTES.addPasskeyVerify, deps.config, async ({ body }) => {
      const { runtime, user } = account;
      const t = stringsFor(ctx.get('accept-language'));
      const rp = relyingPartyFor(deps.config.publicUrl, { name: runtime.tenant.name, settings: runtime.settings });
      const facts = requestFacts(ctx);
      const at = new Date();
      const result = await withTenant(deps.db, runtime.tenant, async (trx) => {
        const verified = await finishRegistration(trx, {
          rp,
          binding: account.binding,
          response: body.response as unknown as RegistrationResponseJSON,
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
          name: defaultPasskeyName(p.aaguid, at),
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
      if (!result.ok) throw refusal(400, result.code, passkeyMessage(t, result.code, runtime.tenant.name));
      return { status: 200, body: { redirect: `${account.base}?done=added` } };
    });
  });

  router.post('/account/sign-out', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    await withTenant(deps.db, account.runtime.tenant, (trx) => closeAccountSession(trx, account.token));
    ctx.cookies.set(ACCOUNT_COOKIE, null, accountCookieOptions(deps.config, account.runtime));
    ctx.status = 303;
    ctx.redirect(`${account.base}/sign-in`);
  });

  router.post('/account/sign-out-everywhere', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
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
    // The sign-in page then says what happened (signedOutEverywhereNotice).
    ctx.redirect(`${account.base}/sign-in?done=everywhere`);
  });
  // New recovery codes: the old set dies at once, the new one is shown once.
  router.post('/account/recovery-codes', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
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

  registerConfirmations(router, deps);
  registerSessionAndAppRoutes(router, deps);
  registerAccountFactorRoutes(router, deps);
  registerProofRoutes(router, deps);
}

/**
 * GET pages that ask before a destructive change; their forms POST to the routes that do it (which
 * still work on their own, as the API of those forms).
 */
function registerConfirmations(router: Router, deps: InteractionDeps): void {
  const confirm = (path: string, build: (ctx: Context, account: AccountContext, t: ReturnType<typeof stringsFor>) => Promise<Parameters<typeof confirmPage>[0] | undefined>) =>
    router.get(path, accountSession(deps), async (ctx) => {
      const account = accountOf(ctx);
      const t = stringsFor(ctx.get('accept-language'));
      const page = await build(ctx, account, t);
      if (!page) {
        ctx.status = 303;
        ctx.redirect(account.base);
        return;
      }
      htmlResponse(ctx, confirmPage(page));
    });
  const shell = (ctx: Context, account: AccountContext, t: ReturnType<typeof stringsFor>) => ({
    t,
    tenantName: account.runtime.tenant.name,
    logoUrl: account.runtime.settings.logo_url,
    nonce: securePage(ctx),
    csrf: account.csrf,
    base: account.base,
  });
  confirm('/account/passkeys/:id/remove', async (ctx, account, t) => {
    const passkey = (await withTenant(deps.db, account.runtime.tenant, (trx) => listCredentials(trx, account.user.id))).find((p) => p.id === ctx.params.id);
    if (!passkey) return undefined;
    const name = passkeyDisplayName(passkey.name, passkey.aaguid);
    return {
      ...shell(ctx, account, t),
      heading: fill(t.account.confirmRemovePasskey, { name }),
      text: t.account.confirmRemovePasskeyText,
      action: `${account.base}/passkeys/${passkey.id}/remove`,
      button: t.account.confirmRemovePasskeyButton,
    };
  });
  confirm('/account/totp/remove', async (ctx, account, t) => ({
    ...shell(ctx, account, t),
    heading: t.factors.otpConfirmRemove,
    text: t.factors.otpConfirmRemoveText,
    action: `${account.base}/totp/remove`,
    button: t.factors.otpRemove,
    fields: otpRemoveFields(t),
  }));
  confirm('/account/face/delete', async (ctx, account, t) => ({
    ...shell(ctx, account, t),
    heading: t.face.confirmRemove,
    text: t.face.removeHint,
    action: `${account.base}/face/delete`,
    button: t.face.confirmRemoveButton,
  }));
  confirm('/account/sign-out-everywhere', async (ctx, account, t) => ({
    ...shell(ctx, account, t),
    heading: t.account.confirmEverywhere,
    text: t.account.signOutEverywhereHint,
    action: `${account.base}/sign-out-everywhere`,
    button: t.account.confirmEverywhereButton,
  }));
}

/** Signing one application session out, and revoking one application's access. */
function registerSessionAndAppRoutes(router: Router, deps: InteractionDeps): void {
  router.post('/account/sessions/:uid/sign-out', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const uid = ctx.params.uid!;
    await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      if (!(await endSessionOf(trx, account.user.id, uid))) return;
      await forgetSessionFactors(trx, { sessionUid: uid, userId: account.user.id });
      await appendAudit(trx, { type: 'account.session_ended', actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data: { session: uid } });
    });
    ctx.status = 303;
    ctx.redirect(`${account.base}?done=sessionEnded#devices`);
  });

  router.post('/account/apps/:clientId/revoke', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const clientId = ctx.params.clientId!;
    await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      const forgotten = await forgetConsent(trx, account.user.id, clientId);
      const records = await endGrantsOfClient(trx, account.user.id, clientId);
      if (forgotten || records > 0) {
        await appendAudit(trx, { type: 'account.app_revoked', actor: account.user.id, subject: account.user.id, clientId, ...requestFacts(ctx), data: { records } });
      }
    });
    ctx.status = 303;
    ctx.redirect(`${account.base}?done=appRevoked#apps`);
  });
}

export type { AccountContext };
