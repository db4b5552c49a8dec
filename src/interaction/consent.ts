// The consent page: the client, the scopes and claims it asks for; allowing saves a grant that
// oidc-provider remembers (see oidc/grant-policy for first-party clients, which never see this).
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findLiveUserById } from '../accounts/users.ts';
import { covers, findRememberedConsent, rememberConsent, type ConsentSet } from '../accounts/consents.ts';
import { HttpError } from '../errors/http-errors.ts';
import type { InteractionView, MissingConsent } from '../oidc/facade.ts';
import { consentPage } from '../../ui/pages/interaction.tsx';
import { htmlResponse, readBody, requestFacts } from './http.ts';
import { pageContext, type Flow, type InteractionDeps } from './flow.ts';

function asked(missing: MissingConsent): ConsentSet {
  return { scopes: missing.missingOIDCScope ?? [], claims: missing.missingOIDCClaims ?? [], resources: missing.missingResourceScopes ?? {} };
}

/** The consent prompt of this interaction, or a 400 page when it is not at consent (say, still at login). */
function consentStep(flow: Flow): { details: InteractionView; accountId: string; missing: MissingConsent } {
  const details = flow.details!;
  if (details.prompt.name !== 'consent' || !details.session) throw new HttpError(400, 'not_at_consent', flow.t.signIn.title, flow.t.errors.interactionGone);
  return { details, accountId: details.session.accountId, missing: details.prompt.details as MissingConsent };
}

export async function showConsent(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const { details, accountId, missing } = consentStep(flow);
  const { user, remembered } = await withTenant(deps.db, flow.runtime.tenant, async (trx) => ({
    user: await findLiveUserById(trx, accountId),
    remembered: await findRememberedConsent(trx, accountId, details.clientId),
  }));
  // Asked before and allowed: grant again without a page (a new session has no grant yet) —
  // unless the RP asked for the question to be put again (prompt=consent, OIDC Core 3.1.2.1).
  const promptConsent = typeof details.params.prompt === 'string' && details.params.prompt.split(' ').includes('consent');
  if (!promptConsent && remembered && covers(remembered, asked(missing))) return grantAndFinish(ctx, flow, deps, { remembered: true });
  // prompt=consent with everything granted already: list what is asked for again, never an empty list.
  const missingScopes = missing.missingOIDCScope ?? [];
  const again = missingScopes.length === 0 && Object.keys(missing.missingResourceScopes ?? {}).length === 0;
  const requested = typeof details.params.scope === 'string' ? details.params.scope.split(' ').filter(Boolean) : [];
  htmlResponse(
    ctx,
    consentPage(pageContext(ctx, flow), {
      clientName: flow.clientName ?? details.clientId,
      userName: user?.display_name ?? user?.username ?? '',
      scopes: again ? requested : missingScopes,
      again,
      claims: (missing.missingOIDCClaims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c)),
      resources: Object.entries(missing.missingResourceScopes ?? {}).map(([indicator, scopes]) => ({ indicator, scopes })),
    }),
  );
}

export async function submitConsent(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const body = await readBody(ctx);
  const { details, accountId } = consentStep(flow);
  const facts = requestFacts(ctx);
  if (body.decision !== 'allow') {
    await withTenant(deps.db, flow.runtime.tenant, (trx) => appendAudit(trx, { type: 'consent.denied', actor: accountId, subject: accountId, clientId: details.clientId, ...facts }));
    ctx.status = 303;
    ctx.redirect(await flow.runtime.oidc.fail(ctx.req, ctx.res, 'access_denied', 'The user denied access.'));
    return;
  }
  await grantAndFinish(ctx, flow, deps, { remembered: false });
}

async function grantAndFinish(ctx: Context, flow: Flow, deps: InteractionDeps, { remembered }: { remembered: boolean }): Promise<void> {
  const { details, accountId, missing } = consentStep(flow);
  const facts = requestFacts(ctx);
  await withTenant(deps.db, flow.runtime.tenant, async (trx) => {
    await rememberConsent(trx, accountId, details.clientId, asked(missing));
    await appendAudit(trx, {
      type: 'consent.granted',
      actor: accountId,
      subject: accountId,
      clientId: details.clientId,
      ...facts,
      data: { scopes: missing.missingOIDCScope ?? [], claims: missing.missingOIDCClaims ?? [], remembered },
    });
  });
  const redirect = await flow.runtime.oidc.grantConsent(ctx.req, ctx.res, { accountId, clientId: details.clientId, grantId: details.grantId, missing });
  ctx.status = 303;
  ctx.redirect(redirect);
}
