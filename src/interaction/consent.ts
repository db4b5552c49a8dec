// The consent page: the client, the scopes and claims it asks for; allowing saves a grant that
// oidc-provider remembers (see oidc/grant-policy for first-party clients, which never see this).
import type { Context } from 'koa';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findLiveUserById } from '../accounts/users.ts';
import { covers, findRememberedConsent, rememberConsent, type ConsentSet } from '../accounts/consents.ts';
import { consentPage } from '../../views/pages.ts';
import { checkCsrf, htmlResponse, readBody, requestFacts } from './http.ts';
import { csrfKey, pageContext, type Flow, type InteractionDeps } from './flow.ts';

interface MissingConsent {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

function asked(missing: MissingConsent): ConsentSet {
  return { scopes: missing.missingOIDCScope ?? [], claims: missing.missingOIDCClaims ?? [], resources: missing.missingResourceScopes ?? {} };
}

export async function showConsent(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const details = flow.details!;
  const missing = details.prompt.details as MissingConsent;
  const accountId = details.session!.accountId;
  const { user, remembered } = await withTenant(deps.db, flow.runtime.tenant, async (trx) => ({
    user: await findLiveUserById(trx, accountId),
    remembered: await findRememberedConsent(trx, accountId, String(details.params.client_id)),
  }));
  // Asked before and allowed: grant again without a page (a new session has no grant yet).
  if (remembered && covers(remembered, asked(missing))) return grantAndFinish(ctx, flow, deps, { remembered: true });
  htmlResponse(
    ctx,
    consentPage(pageContext(ctx, flow), {
      clientName: flow.clientName ?? String(details.params.client_id),
      userName: user?.display_name ?? user?.username ?? '',
      scopes: missing.missingOIDCScope ?? [],
      claims: (missing.missingOIDCClaims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c)),
      resources: Object.entries(missing.missingResourceScopes ?? {}).map(([indicator, scopes]) => ({ indicator, scopes })),
    }),
  );
}

export async function submitConsent(ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> {
  const body = await readBody(ctx);
  checkCsrf(ctx, csrfKey(deps.config), flow.binding, body.csrf);
  const { provider } = flow.runtime;
  const details = flow.details!;
  const accountId = details.session!.accountId;
  const clientId = details.params.client_id as string;
  const facts = requestFacts(ctx);
  if (body.decision !== 'allow') {
    await withTenant(deps.db, flow.runtime.tenant, (trx) => appendAudit(trx, { type: 'consent.denied', actor: accountId, subject: accountId, clientId, ...facts }));
    const redirect = await provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: 'The user denied access.' }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(redirect);
    return;
  }
  await grantAndFinish(ctx, flow, deps, { remembered: false });
}

async function grantAndFinish(ctx: Context, flow: Flow, deps: InteractionDeps, { remembered }: { remembered: boolean }): Promise<void> {
  const { provider } = flow.runtime;
  const details = flow.details!;
  const accountId = details.session!.accountId;
  const clientId = details.params.client_id as string;
  const facts = requestFacts(ctx);
  const missing = details.prompt.details as MissingConsent;
  const grant = details.grantId ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId })) : new provider.Grant({ accountId, clientId });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await withTenant(deps.db, flow.runtime.tenant, async (trx) => {
    await rememberConsent(trx, accountId, clientId, asked(missing));
    await appendAudit(trx, {
      type: 'consent.granted',
      actor: accountId,
      subject: accountId,
      clientId,
      ...facts,
      data: { scopes: missing.missingOIDCScope ?? [], claims: missing.missingOIDCClaims ?? [], remembered },
    });
  });
  const redirect = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(redirect);
}
