// The authenticator app (TOTP) in pages: enrolment and removal on the account page, and the code
// check the step-up page runs (src/stepup/routes.ts owns that page's rate limits, lockout and
// routing). Secrets are sealed with the installation's key ring; each code counts once.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { generateURI } from 'otplib';
import QRCode from 'qrcode';
import { withTenant, type TenantDb } from '../../db/tenant-scope.ts';
import { appendAudit } from '../../audit/audit-log.ts';
import { amrForFactor } from '../../stepup/index.ts';
import type { AccountContext } from '../../account/routes.ts';
import { checkCsrf, htmlResponse, readBody, requestFacts, securePage } from '../../interaction/http.ts';
import { csrfKey, type InteractionDeps } from '../../interaction/flow.ts';
import { consumeStepUpLimits, factorSecretBox } from '../../interaction/step-up.ts';
import { totpEnrolPage } from '../../../views/step-up.ts';
import { fill, stringsFor, type Strings } from '../../../views/strings/index.ts';
import type { FactorCheck } from '../../stepup/routes.ts';
import { createTotpEnrollment } from './create-enrollment.ts';
import { createTotpStore } from './store.ts';

/** Users type codes with spaces ("123 456"); the check wants the digits only. */
export const normaliseCode = (value: unknown) => (typeof value === 'string' ? value.replace(/[\s-]/g, '') : '');

export function totpStoreFor(ctx: Context) {
  return createTotpStore(factorSecretBox(ctx));
}

/** The step-up page's check: one code from the confirmed authenticator, consumed on success. */
export const totpCheck: FactorCheck = {
  factor: 'otp',
  lockFactor: 'totp',
  auditPrefix: 'factor.otp',
  async verify(trx, { ctx, userId, body, t, tenantName, now }) {
    const result = await totpStoreFor(ctx).verifyCode(trx, { userId, code: normaliseCode(body.code), now: Math.floor(now.getTime() / 1000) });
    if (result.ok) return { ok: true, amr: amrForFactor('otp'), data: { step: result.step } };
    if (result.reason === 'not_enrolled') return { ok: false, reason: 'not_enrolled', counts: false };
    return { ok: false, reason: result.reason, counts: true, error: fill(t.stepUp.otp[result.reason], { tenant: tenantName }) };
  },
};

type RequireSession = (ctx: Context, deps: InteractionDeps) => Promise<AccountContext | undefined>;

async function qrFor(secret: string, issuer: string, accountName: string): Promise<string> {
  const uri = generateURI({ issuer: issuer.replaceAll(':', ' '), label: accountName.replaceAll(':', ' '), secret });
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

async function showEnrolment(ctx: Context, account: AccountContext, secret: string, { error, status = 200 }: { error?: string; status?: number } = {}) {
  const t = stringsFor(ctx.get('accept-language'));
  const { runtime, user } = account;
  htmlResponse(
    ctx,
    totpEnrolPage({
      t,
      tenantName: runtime.tenant.name,
      logoUrl: runtime.settings.logo_url,
      nonce: securePage(ctx),
      csrf: account.csrf,
      base: account.base,
      qrSvg: await qrFor(secret, runtime.tenant.name, user.email ?? user.username),
      secret,
      error,
    }),
    status,
  );
}

async function audit(trx: TenantDb, ctx: Context, account: AccountContext, type: string, data: Record<string, unknown> = {}) {
  await appendAudit(trx, { type, actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data });
}

/** /account/totp…: start (new secret), the QR page, confirm with one code, remove. */
export function registerTotpAccountRoutes(router: Router, deps: InteractionDeps, requireSession: RequireSession): void {
  router.post('/account/totp/start', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const { runtime, user } = account;
    const enrollment = await createTotpEnrollment({ issuer: runtime.tenant.name, accountName: user.email ?? user.username });
    const started = await withTenant(deps.db, runtime.tenant, (trx) => totpStoreFor(ctx).startEnrollment(trx, { userId: user.id, secret: enrollment.secret }));
    ctx.status = 303;
    ctx.redirect(started ? `${account.base}/totp` : `${account.base}?factor=otp-already#otp-section`);
  });

  router.get('/account/totp', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const stored = await withTenant(deps.db, account.runtime.tenant, (trx) => totpStoreFor(ctx).find(trx, account.user.id));
    if (!stored || stored.confirmed) {
      ctx.status = 303;
      ctx.redirect(`${account.base}#otp-section`);
      return;
    }
    await showEnrolment(ctx, account, stored.secret);
  });

  router.post('/account/totp/confirm', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const t = stringsFor(ctx.get('accept-language'));
    const { runtime, user } = account;
    const limited = await consumeStepUpLimits(ctx, runtime, user.id);
    const store = totpStoreFor(ctx);
    const outcome = await withTenant(deps.db, runtime.tenant, async (trx) => {
      const stored = await store.find(trx, user.id);
      if (!stored || stored.confirmed) return { done: 'gone' as const };
      if (!limited.allowed) return { done: 'retry' as const, secret: stored.secret, error: fill(t.stepUp.tooMany, { seconds: limited.retryAfterSeconds }) };
      const result = await store.verifyCode(trx, { userId: user.id, code: normaliseCode(body.code), confirming: true });
      if (!result.ok) return { done: 'retry' as const, secret: stored.secret, error: otpError(t, result.reason, runtime.tenant.name) };
      await audit(trx, ctx, account, 'factor.otp.enrolled', { algorithm: stored.algorithm, digits: stored.digits, period: stored.period });
      return { done: 'enrolled' as const };
    });
    if (outcome.done === 'retry') return showEnrolment(ctx, account, outcome.secret, { error: outcome.error, status: limited.allowed ? 400 : 429 });
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=${outcome.done === 'enrolled' ? 'otp-enrolled' : 'otp-already'}#otp-section`);
  });

  router.post('/account/totp/remove', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      if (await totpStoreFor(ctx).remove(trx, account.user.id)) await audit(trx, ctx, account, 'factor.otp.removed');
    });
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=otp-removed#otp-section`);
  });
}

function otpError(t: Strings, reason: string, tenantName: string): string {
  const messages = t.stepUp.otp as Record<string, string>;
  return fill(messages[reason] ?? t.errors.generic, { tenant: tenantName });
}
