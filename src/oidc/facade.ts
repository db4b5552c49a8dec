// The one door to oidc-provider for everything outside src/oidc/: the interaction a page is part
// of, its client, and the ways an interaction ends (a login, a consent, an error). Callers see
// plain data, never oidc-provider's objects, so a minor upgrade of the library stays in this folder.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { SessionFactor } from '../stepup/index.ts';
import { LOGIN_FACTORS } from './step-up-check.ts';
import { extendGrant, findOrNewGrant } from './grants.ts';

/** What the consent prompt says is missing (oidc-provider's prompt details for `consent`). */
export interface MissingConsent {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export interface InteractionView {
  uid: string;
  /** When the interaction began (epoch seconds). */
  startedAt: number;
  clientId: string;
  /** The authorization request's parameters, as the RP sent them. */
  params: Record<string, unknown>;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  /** The signed-in session behind it, if any. */
  session?: { uid: string; accountId: string };
  grantId?: string;
}

export interface ClientView {
  clientId: string;
  name: string;
  defaultAcrValues?: string[];
  defaultMaxAge?: number;
}

export interface FinishedLogin {
  accountId: string;
  acr: string;
  amr: string[];
  /** Epoch seconds (auth_time). */
  authTime: number;
  /** Recorded under the session's uid when the login resumes (step-up-check.ts). */
  factors: SessionFactor[];
}

type Req = IncomingMessage;
type Res = ServerResponse;

export function createOidcFacade(provider: Provider) {
  return {
    /** The interaction of this request (its cookie), or throws when it is gone or expired. */
    async interaction(req: Req, res: Res): Promise<InteractionView> {
      const details = await provider.interactionDetails(req, res);
      const session = details.session as { uid?: string; accountId?: string } | undefined;
      return {
        uid: details.uid,
        startedAt: (details as { iat?: number }).iat ?? Math.floor(Date.now() / 1000),
        clientId: String(details.params.client_id),
        params: details.params as Record<string, unknown>,
        prompt: { name: details.prompt.name, reasons: [...details.prompt.reasons], details: details.prompt.details as Record<string, unknown> },
        ...(session?.uid && session.accountId ? { session: { uid: session.uid, accountId: session.accountId } } : {}),
        ...(details.grantId ? { grantId: details.grantId } : {}),
      };
    },

    async client(clientId: string): Promise<ClientView | undefined> {
      const client = await provider.Client.find(clientId);
      if (!client) return undefined;
      const metadata = client.metadata() as { default_acr_values?: string[]; default_max_age?: number };
      return {
        clientId,
        name: client.clientName ?? clientId,
        ...(metadata.default_acr_values ? { defaultAcrValues: metadata.default_acr_values } : {}),
        ...(metadata.default_max_age !== undefined ? { defaultMaxAge: metadata.default_max_age } : {}),
      };
    },

    /** Ends the interaction with a login; returns where the browser goes next. */
    finishLogin(req: Req, res: Res, login: FinishedLogin): Promise<string> {
      return provider.interactionResult(
        req,
        res,
        { login: { accountId: login.accountId, amr: login.amr, acr: login.acr, ts: login.authTime }, [LOGIN_FACTORS]: login.factors },
        { mergeWithLastSubmission: false },
      );
    },

    /** Ends the interaction with an OAuth error for the RP (access_denied, unmet_authentication_requirements, …). */
    fail(req: Req, res: Res, error: string, description: string): Promise<string> {
      return provider.interactionResult(req, res, { error, error_description: description }, { mergeWithLastSubmission: false });
    },

    /** Grants what the consent prompt asked for (adding to an existing grant) and ends the interaction. */
    async grantConsent(req: Req, res: Res, { accountId, clientId, grantId, missing }: { accountId: string; clientId: string; grantId?: string | undefined; missing: MissingConsent }): Promise<string> {
      const grant = extendGrant(await findOrNewGrant(provider, { grantId, accountId, clientId }), {
        scope: missing.missingOIDCScope?.join(' '),
        claims: missing.missingOIDCClaims,
        resources: Object.fromEntries(Object.entries(missing.missingResourceScopes ?? {}).map(([indicator, scopes]) => [indicator, scopes.join(' ')])),
      });
      const saved = await grant.save();
      return provider.interactionResult(req, res, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
    },
  };
}

export type OidcFacade = ReturnType<typeof createOidcFacade>;
