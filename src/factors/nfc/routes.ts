// NTAG 424 DNA cards in pages: enrolment and removal on the account page, and the tap check the
// step-up page runs (src/stepup/routes.ts owns that page's rate limits, lockout and routing).
//
// Enrolment model: the card was programmed elsewhere (SUN/SDM in AES mode, a URL with picc_data
// and cmac); the user enters its UID and its two AES-128 keys (SDM meta read, SDM file read) and
// pastes one tapped URL. That tap must decrypt and verify under those keys and name that UID, which
// proves the keys match the card in hand; its counter becomes the card's last counter, so the
// same URL cannot be used afterwards.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { withTenant, type TenantDb } from '../../db/tenant-scope.ts';
import { appendAudit } from '../../audit/audit-log.ts';
import { amrForFactor } from '../../stepup/index.ts';
import type { AccountContext } from '../../account/routes.ts';
import { checkCsrf, htmlResponse, readBody, requestFacts, securePage } from '../../interaction/http.ts';
import { csrfKey, type InteractionDeps } from '../../interaction/flow.ts';
import { consumeStepUpLimits, factorSecretBox } from '../../interaction/step-up.ts';
import { nfcEnrolPage, type NfcEnrolValues } from '../../../views/step-up.ts';
import { fill, stringsFor, type Strings } from '../../../views/strings/index.ts';
import type { FactorCheck } from '../../stepup/routes.ts';
import { acceptCardTap } from './accept-card-tap.ts';
import { parseSunUrl } from './parse-sun-url.ts';
import { verifySun } from './verify-sun.ts';
import { createNfcCardStore } from './store.ts';

export function nfcStoreFor(ctx: Context) {
  return createNfcCardStore(factorSecretBox(ctx));
}

/** What the user pasted: a URL, trimmed. Anything longer than a card could write is refused. */
const tapOf = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, 2048) : '');

export function tapMessage(t: Strings, reason: string): string {
  return t.stepUp.nfc.reasons[reason] ?? t.errors.generic;
}

/** The step-up page's check: a fresh tap of one of the user's own cards, consumed on success. */
export const nfcCheck: FactorCheck = {
  factor: 'nfc',
  lockFactor: 'nfc',
  auditPrefix: 'factor.nfc',
  async verify(trx, { ctx, userId, body, t }) {
    const tap = tapOf(body.tap);
    const result = await nfcStoreFor(ctx).verifyTap(trx, { userId, tap });
    if (result.ok) return { ok: true, amr: amrForFactor('nfc'), data: { card_id: result.cardId, uid: result.uid, counter: result.counter } };
    if (result.reason === 'not_enrolled') return { ok: false, reason: 'not_enrolled', counts: false };
    return { ok: false, reason: result.reason, counts: true, error: tapMessage(t, result.reason), value: tap };
  },
};

type RequireSession = (ctx: Context, deps: InteractionDeps) => Promise<AccountContext | undefined>;

const HEX_KEY = /^[0-9a-fA-F]{32}$/;
const enrolBody = z.object({
  name: z.string().trim().min(1).max(60),
  uid: z.string().trim().regex(/^[0-9a-fA-F]{14}$/),
  metaReadKey: z.string().trim().regex(HEX_KEY),
  fileReadKey: z.string().trim().regex(HEX_KEY),
  tap: z.string().trim().min(1).max(2048),
});

function showEnrolment(ctx: Context, account: AccountContext, extra: { values?: NfcEnrolValues; errors?: Partial<Record<keyof NfcEnrolValues, string>>; formError?: string } = {}, status = 200) {
  const t = stringsFor(ctx.get('accept-language'));
  const { runtime } = account;
  htmlResponse(
    ctx,
    nfcEnrolPage({ t, tenantName: runtime.tenant.name, logoUrl: runtime.settings.logo_url, nonce: securePage(ctx), csrf: account.csrf, base: account.base, ...extra }),
    status,
  );
}

async function audit(trx: TenantDb, ctx: Context, account: AccountContext, type: string, data: Record<string, unknown> = {}) {
  await appendAudit(trx, { type, actor: account.user.id, subject: account.user.id, ...requestFacts(ctx), data });
}

/** /account/nfc…: the enrolment form, enrol (keys + one proving tap), remove. */
export function registerNfcAccountRoutes(router: Router, deps: InteractionDeps, requireSession: RequireSession): void {
  router.get('/account/nfc', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (account) showEnrolment(ctx, account);
  });

  router.post('/account/nfc', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
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
      return showEnrolment(ctx, account, { values, errors }, 400);
    }
    const { name, metaReadKey, fileReadKey, tap } = input.data;
    const uid = input.data.uid.toUpperCase();
    const { runtime, user } = account;
    const limited = await consumeStepUpLimits(ctx, runtime, user.id);
    if (!limited.allowed) return showEnrolment(ctx, account, { values, formError: fill(t.stepUp.tooMany, { seconds: limited.retryAfterSeconds }) }, 429);
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
      await withTenant(deps.db, runtime.tenant, (trx) => audit(trx, ctx, account, 'factor.nfc.enrol_failed', { reason: decision.reason, uid }));
      return showEnrolment(ctx, account, { values, errors }, 400);
    }
    const added = await withTenant(deps.db, runtime.tenant, async (trx) => {
      const id = await nfcStoreFor(ctx).addCard(trx, { userId: user.id, uid, metaReadKey, fileReadKey, name, lastCounter: decision.counter });
      if (id) await audit(trx, ctx, account, 'factor.nfc.enrolled', { card_id: id, uid, counter: decision.counter });
      return id;
    });
    if (!added) return showEnrolment(ctx, account, { values, errors: { uid: t.factors.nfcTaken } }, 409);
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=nfc-enrolled#nfc-section`);
  });

  router.post('/account/nfc/:id/remove', async (ctx) => {
    const account = await requireSession(ctx, deps);
    if (!account) return;
    const body = await readBody(ctx);
    checkCsrf(ctx, csrfKey(deps.config), account.binding, body.csrf);
    const cardId = ctx.params.id!;
    await withTenant(deps.db, account.runtime.tenant, async (trx) => {
      if (!/^[0-9a-f-]{36}$/i.test(cardId)) return;
      if (await nfcStoreFor(ctx).removeCard(trx, { userId: account.user.id, cardId })) await audit(trx, ctx, account, 'factor.nfc.removed', { card_id: cardId });
    });
    ctx.status = 303;
    ctx.redirect(`${account.base}?factor=nfc-removed#nfc-section`);
  });
}
