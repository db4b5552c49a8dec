// The account page's authenticator-app and NFC-card sections: enrolment and removal. Every change
// needs a fresh proof (fresh-proof.ts) and is an audit event naming it. Secrets are sealed with the
// factor-secret key ring; each code and each tap counts once.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { generateURI } from 'otplib';
import QRCode from 'qrcode';
import { z } from 'zod';
import { withTenant, type TenantDb } from '../db/tenant-scope.ts';
import { appendAudit, type AuditEvent } from '../audit/audit-log.ts';
import type { AuditData, AuditEventType } from '../audit/catalogue.ts';
import { createTotpEnrollment } from '../factors/totp/create-enrollment.ts';
import { createTotpStore } from '../factors/totp/store.ts';
import { createTotpFactor, normaliseCode } from '../factors/totp/factor.ts';
import { createNfcCardStore } from '../factors/nfc/store.ts';
import { acceptCardTap } from '../factors/nfc/accept-card-tap.ts';
import { parseSunUrl } from '../factors/nfc/parse-sun-url.ts';
import { verifySun } from '../factors/nfc/verify-sun.ts';
import type { SessionFactor } from '../stepup/index.ts';
import { nfcEnrolPage, totpEnrolPage, accountFactorsSections, type NfcEnrolValues } from '../../ui/pages/step-up.tsx';
import { fill, waitArguments, stringsFor, type Strings } from '../../views/strings/index.ts';
import type { VNode } from 'preact';
import { htmlResponse, readBody, requestFacts, securePage } from '../interaction/http.ts';
import { respondRateLimited } from '../http/error-responder.ts';
import { type InteractionDeps } from '../interaction/flow.ts';
import { consumeStepUpLimits, factorSecretBox } from '../interaction/step-up.ts';
import { otpMessage, tapMessage } from '../interaction/step-up-pages.ts';
import { runAttempt } from '../interaction/attempt.ts';
import { accountOf, accountSession, type AccountContext } from './session.ts';
import type { Services } from '../services.ts';
import { proofData, recordAccountProof, requireFreshProof } from './fresh-proof.ts';

const totpStoreFor = (services: Services) => createTotpStore(factorSecretBox(services));
const nfcStoreFor = (services: Services) => createNfcCardStore(factorSecretBox(services));

const FACTOR_NOTICES: Record<string, keyof Strings['factors']> = {
  'otp-enrolled': 'otpEnrolled',
  'otp-removed': 'otpRemoved',
  'otp-already': 'otpAlready',
  'nfc-enrolled': 'nfcEnrolled',
  'nfc-removed': 'nfcRemoved',
};

/** The account page's authenticator-app and NFC-card sections, for one signed-in user. */
export async function accountFactorSections(ctx: Context, trx: TenantDb, { userId, csrf, base, services }: { userId: string; csrf: string; base: string; services: Services }): Promise<VNode> {
  const t = stringsFor(ctx.get('accept-language'));
  const otp = await totpStoreFor(services).find(trx, userId);
  const cards = await nfcStoreFor(services).listCards(trx, userId);
  const notice = typeof ctx.query.factor === 'string' && FACTOR_NOTICES[ctx.query.factor] ? (t.factors[FACTOR_NOTICES[ctx.query.factor]!] as string) : undefined;
  return accountFactorsSections({
    t,
    csrf,
    base,
    otp: otp?.confirmedAt ? { createdAt: otp.confirmedAt } : null,
    cards: cards.map((c) => ({ id: c.id, name: c.name, uid: c.uid, createdAt: c.createdAt })),
    notice,
  });
}

async function qrFor(secret: string, issuer: string, accountName: string): Promise<string> {
  const uri = generateURI({ issuer: issuer.replaceAll(':', ' '), label: accountName.replaceAll(':', ' '), secret });
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

async function showTotpEnrolment(ctx: Context, account: AccountContext, secret: string, { error, status = 200 }: { error?: string; status?: number } = {}) {
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

type FactorChange = 'factor.otp.enrolled' | 'factor.otp.removed' | 'factor.nfc.enrolled' | 'factor.nfc.enrol_failed' | 'factor.nfc.removed';
async function audit<T extends FactorChange & AuditEventType>(trx: TenantDb, ctx: Context, account: AccountContext, type: T, proof: SessionFactor, data: Omit<AuditData<T>, 'proof'> = {} as AuditData<T>) {
  // The callers' data is checked against the catalogue (AuditData<T>); the proof is added here.
  const event = { type, actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data: { ...data, ...proofData(proof) } } as unknown as AuditEvent<T>;
  await appendAudit(trx, event);
}

/** /account/totp…: start (new secret), the QR page, confirm with one code, remove. */
function registerTotpRoutes(router: Router, deps: InteractionDeps): void {
  router.post('/account/totp/start', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    if (!(await requireFreshProof(ctx, deps, account, { back: `${account.base}#otp-section` }))) return;
    const { runtime, user } = account;
    const enrollment = await createTotpEnrollment({ issuer: runtime.tenant.name, accountName: user.email ?? user.username });
    const started = await withTenant(deps.db, runtime.tenant, (trx) => totpStoreFor(deps.services).startEnrollment(trx, { userId: user.id, secret: enrollment.secret }));
    ctx.status = 303;
    ctx.redirect(started ? `${account.base}/totp` : `${account.base}?factor=otp-already#otp-section`);
  });

  router.get('/account/totp', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const stored = await withTenant(deps.db, account.runtime.tenant, (trx) => totpStoreFor(deps.services).find(trx, account.user.id));
    if (!stored || stored.confirmed) {
      ctx.status = 303;
      ctx.redirect(`${account.base}#otp-section`);
      return;
    }
    await showTotpEnrolment(ctx, account, stored.secret);
  });

  router.post('/account/totp/confirm', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const body = await readBody(ctx);
    const proof = await requireFreshProof(ctx, deps, account, { back: `${account.base}/totp` });
    if (!proof) return;
    const t = stringsFor(ctx.get('accept-language'));
    const { runtime, user } = account;
    const limited = await consumeStepUpLimits(deps.services, ctx.ip, runtime, user.id);
    const store = totpStoreFor(deps.services);
    const outcome = await withTenant(deps.db, runtime.tenant, async (trx) => {
      const stored = await store.find(trx, user.id);
      if (!stored || stored.confirmed) return { done: 'gone' as const };
      if (!limited.allowed) return { done: 'retry' as const, secret: stored.secret, error: fill(t.stepUp.tooMany, waitArguments(limited.retryAfterSeconds)) };
      const result = await store.verifyCode(trx, { userId: user.id, code: normaliseCode(body.code), confirming: true });
      if (!result.ok) return { done: 'retry' as const, secret: stored.secret, error: otpMessage(t, result.reason, runtime.tenant.name) };
      await audit(trx, ctx, account, 'factor.otp.enrolled', proof, { algorithm: stored.algorithm, digits: stored.digits, period: stored.period });
      return { done: 'enrolled' as const };
    });
    if (outcome.done === 'retry' && !limited.allowed) return respondRateLimited(ctx, limited.retryAfterSeconds, { detail: outcome.error, page: () => showTotpEnrolment(ctx, account, outcome.secret, { error: outcome.error, status: 429 }) });
    if (outcome.done === 'retry') return showTotpEnrolment(ctx, account, outcome.secret, { error: outcome.error, status: 400 });
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=${outcome.done === 'enrolled' ? 'otp-enrolled' : 'otp-already'}#otp-section`);
  });

  // Removing the app: a current code from it in the same form, or a fresh proof of another
  // second factor (or a recovery code, when the app is lost).
  router.post('/account/totp/remove', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const body = await readBody(ctx);
    const code = normaliseCode(body.code);
    if (code) {
      const proven = await runAttempt(deps.db, account.runtime.tenant, {
        factor: createTotpFactor(factorSecretBox(deps.services)),
        userId: account.user.id,
        input: { code },
        facts: requestFacts(ctx),
        flow: 'fresh-proof',
        limit: () => consumeStepUpLimits(deps.services, ctx.ip, account.runtime, account.user.id),
      });
      if (proven.ok) await withTenant(deps.db, account.runtime.tenant, (trx) => recordAccountProof(trx, account, { factor: 'otp', amr: proven.amr, at: proven.at }));
    }
    const proof = await requireFreshProof(ctx, deps, account, { change: { removing: 'otp' }, back: `${account.base}#otp-section` });
    if (!proof) return;
    await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      if (await totpStoreFor(deps.services).remove(trx, account.user.id)) await audit(trx, ctx, account, 'factor.otp.removed', proof);
    });
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=otp-removed#otp-section`);
  });
}

const HEX_KEY = /^[0-9a-fA-F]{32}$/;
const enrolBody = z.object({
  name: z.string().trim().min(1).max(60),
  uid: z.string().trim().regex(/^[0-9a-fA-F]{14}$/),
  metaReadKey: z.string().trim().regex(HEX_KEY),
  fileReadKey: z.string().trim().regex(HEX_KEY),
  tap: z.string().trim().min(1).max(2048),
});

function showNfcEnrolment(ctx: Context, account: AccountContext, extra: { values?: NfcEnrolValues; errors?: Partial<Record<keyof NfcEnrolValues, string>>; formError?: string } = {}, status = 200) {
  const t = stringsFor(ctx.get('accept-language'));
  const { runtime } = account;
  htmlResponse(
    ctx,
    nfcEnrolPage({ t, tenantName: runtime.tenant.name, logoUrl: runtime.settings.logo_url, nonce: securePage(ctx), csrf: account.csrf, base: account.base, ...extra }),
    status,
  );
}

/**
 * /account/nfc…: the enrolment form, enrol (keys + one proving tap), remove. The card was
 * programmed elsewhere (SUN/SDM in AES mode); the user enters its UID and its two AES-128 keys and
 * pastes one tapped URL, which must verify under those keys and name that UID. Its counter
 * becomes the card's last counter, so the same URL cannot be used afterwards.
 */
function registerNfcRoutes(router: Router, deps: InteractionDeps): void {
  router.get('/account/nfc', accountSession(deps), (ctx) => {
    showNfcEnrolment(ctx, accountOf(ctx));
  });

  router.post('/account/nfc', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const body = await readBody(ctx);
    const proof = await requireFreshProof(ctx, deps, account, { back: `${account.base}/nfc` });
    if (!proof) return;
    const t = stringsFor(ctx.get('accept-language'));
    // Keys are never echoed back into the page.
    const values: NfcEnrolValues = { name: String(body.name ?? ''), uid: String(body.uid ?? ''), tap: String(body.tap ?? '') };
    const input = enrolBody.safeParse(body);
    if (!input.success) {
      const bad = new Set(input.error.issues.map((issue) => String(issue.path[0])));
      const errors: Partial<Record<keyof NfcEnrolValues, string>> = {};
      if (bad.has('name')) errors.name = t.factors.nfcNameInvalid;
      if (bad.has('uid')) errors.uid = t.factors.nfcUidInvalid;
      if (bad.has('metaReadKey')) errors.metaReadKey = t.factors.nfcKeyInvalid;
      if (bad.has('fileReadKey')) errors.fileReadKey = t.factors.nfcKeyInvalid;
      if (bad.has('tap')) errors.tap = tapMessage(t, 'malformed');
      return showNfcEnrolment(ctx, account, { values, errors }, 400);
    }
    const { name, metaReadKey, fileReadKey, tap } = input.data;
    const uid = input.data.uid.toUpperCase();
    const { runtime, user } = account;
    const limited = await consumeStepUpLimits(deps.services, ctx.ip, runtime, user.id);
    if (!limited.allowed) {
      const detail = fill(t.stepUp.tooMany, waitArguments(limited.retryAfterSeconds));
      return respondRateLimited(ctx, limited.retryAfterSeconds, { detail, page: () => showNfcEnrolment(ctx, account, { values, formError: detail }, 429) });
    }
    const parsed = parseSunUrl(tap);
    const decision = parsed.ok
      ? acceptCardTap({
          result: verifySun({ piccData: parsed.piccData, cmac: parsed.cmac, macInput: parsed.macInput, ...(parsed.enc !== undefined ? { encFileData: parsed.enc } : {}), metaReadKey, fileReadKey }),
          expectedUid: uid,
          lastCounter: null,
        })
      : parsed;
    if (!decision.ok) {
      // A tap that names another UID proves these keys are right for a different card.
      const errors = decision.reason === 'wrong_card' ? { uid: t.stepUp.nfc.reasons.wrong_card! } : { tap: tapMessage(t, decision.reason) };
      await withTenant(deps.db, runtime.tenant, (trx) => audit(trx, ctx, account, 'factor.nfc.enrol_failed', proof, { reason: decision.reason, uid }));
      return showNfcEnrolment(ctx, account, { values, errors }, 400);
    }
    const added = await withTenant(deps.db, runtime.tenant, async (trx) => {
      const id = await nfcStoreFor(deps.services).addCard(trx, { userId: user.id, uid, metaReadKey, fileReadKey, name, lastCounter: decision.counter });
      if (id) await audit(trx, ctx, account, 'factor.nfc.enrolled', proof, { card_id: id, uid, counter: decision.counter });
      return id;
    });
    if (!added) return showNfcEnrolment(ctx, account, { values, errors: { uid: t.factors.nfcTaken } }, 409);
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=nfc-enrolled#nfc-section`);
  });

  router.post('/account/nfc/:id/remove', accountSession(deps), async (ctx) => {
    const account = accountOf(ctx);
    const proof = await requireFreshProof(ctx, deps, account, { change: { removing: 'nfc' }, back: `${account.base}#nfc-section` });
    if (!proof) return;
    const cardId = ctx.params.id!;
    await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      if (!/^[0-9a-f-]{36}$/i.test(cardId)) return;
      if (await nfcStoreFor(deps.services).removeCard(trx, { userId: account.user.id, cardId })) await audit(trx, ctx, account, 'factor.nfc.removed', proof, { card_id: cardId });
    });
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=nfc-removed#nfc-section`);
  });
}

export function registerAccountFactorRoutes(router: Router, deps: InteractionDeps): void {
  registerTotpRoutes(router, deps);
  registerNfcRoutes(router, deps);
}
