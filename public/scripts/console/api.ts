// The console's client of the admin API: every call goes to /t/<slug>/console/api/… with the
// session cookie (sent by the browser, HttpOnly) and the session's CSRF token in a header. A 401
// sends the browser to sign in again; a 403 step_up_required remembers the action and sends it to
// Facet's own step-up (the console comes back to this page and offers the action again).
// Types are generated from the admin API's OpenAPI document (./api-types.ts).
import type { Operations } from './api-types.ts';
import { format, t } from '../shared/language.ts';

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  redirect?: string;
  acr?: string;
  /** RFC 9457 extension: each bad field (JSON pointer into the body) and what is wrong with it. */
  errors?: Array<{ in?: string; pointer: string; detail: string }>;
}

export type Result<T> = { ok: true; status: number; data: T } | { ok: false; status: number; problem: Problem };

// The admin API's types, generated from its OpenAPI document (scripts/console-api-types.ts).
type Response<K extends keyof Operations> = Operations[K]['response'];
export type Me = Response<'whoAmI'>;
export type UserSummary = Response<'listUsers'>['users'][number];
export type UserDetail = Response<'getUser'>;
export type FactorRow = UserDetail['factors']['passkeys'][number];
export type RoleGrant = Response<'listRoleGrants'>['roles'][number];
export type SigningKey = Response<'listSigningKeys'>['keys'][number];
export type ClientSummary = Response<'listClients'>['clients'][number];
export type ClientBody = Operations['createClient']['body'];
export type ClientSettings = Operations['replaceClient']['body'];
export type PoliciesAnswer = Response<'getPolicies'>;
export type OverviewAnswer = Response<'getOverview'>;
export type AuditEventRow = Response<'searchAuditEvents'>['events'][number];
export type AuditEvent = Response<'getAuditEvent'>;
export type AuditExport = Response<'getAuditExport'>;
export type AuditFilters = NonNullable<Operations['requestAuditExport']['body']['filters']>;
export type ChainVerdict = Response<'verifyAuditChain'>;
export type AuditCatalogue = Response<'getAuditCatalogue'>;
export type PoliciesBody = Operations['changePolicies']['body'];
export type BrandingAnswer = Response<'getBranding'>;
export type BrandingBody = Operations['changeBranding']['body'];

export interface PendingAction {
  /** The page the action belongs to (pathname). */
  page: string;
  action: string;
  args?: Record<string, string>;
}

const PENDING_KEY = 'facet-console-pending';

export function takePendingAction(page: string): PendingAction | undefined {
  const raw = sessionStorage.getItem(PENDING_KEY);
  if (!raw) return undefined;
  sessionStorage.removeItem(PENDING_KEY);
  try {
    const pending = JSON.parse(raw) as PendingAction;
    return pending.page === page ? pending : undefined;
  } catch {
    return undefined;
  }
}

export function createApi(base: string, csrf: string) {
  async function call<T>(method: string, path: string, body?: unknown, pending?: PendingAction): Promise<Result<T>> {
    const response = await fetch(`${base}/api${path}`, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        'x-facet-csrf': csrf,
        'x-facet-return': location.pathname + location.search,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.ok) {
      const data = response.status === 204 ? (undefined as T) : ((await response.json()) as T);
      return { ok: true, status: response.status, data };
    }
    let problem: Problem;
    try {
      problem = (await response.json()) as Problem;
    } catch {
      problem = { title: response.statusText, status: response.status, detail: format(t.common.serverAnswered, { status: response.status }), code: 'unknown' };
    }
    if (response.status === 401 && problem.redirect) {
      location.assign(`${problem.redirect}?next=${encodeURIComponent(location.pathname + location.search)}`);
    } else if (problem.code === 'step_up_required' && problem.redirect) {
      if (pending) sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
      location.assign(problem.redirect);
    }
    return { ok: false, status: response.status, problem };
  }
  return {
    me: () => call<Response<'whoAmI'>>('GET', '/me'),
    users: (query: Record<string, string>) => call<Response<'listUsers'>>('GET', `/users?${new URLSearchParams(query)}`),
    user: (id: string) => call<Response<'getUser'>>('GET', `/users/${encodeURIComponent(id)}`),
    signOut: (id: string) => call<Response<'signOutUserEverywhere'>>('POST', `/users/${encodeURIComponent(id)}/sign-out`),
    editProfile: (id: string, body: Operations['editUserProfile']['body']) => call<Response<'editUserProfile'>>('PATCH', `/users/${encodeURIComponent(id)}`, body),
    lock: (id: string, factor?: string) => call<Response<'lockUser'>>('POST', `/users/${encodeURIComponent(id)}/lock`, factor ? { factor } : {}),
    unlockAccount: (id: string) => call<Response<'unlockAccount'>>('POST', `/users/${encodeURIComponent(id)}/unlock-account`),
    unlockFactors: (id: string, factor?: string) => call<Response<'unlockUser'>>('POST', `/users/${encodeURIComponent(id)}/unlock`, factor ? { factor } : {}),
    resetFactor: (id: string, factor: string) => call<Response<'resetUserFactor'>>('POST', `/users/${encodeURIComponent(id)}/reset-factor`, { factor }),
    deleteUser: (id: string, pending: PendingAction) => call<void>('DELETE', `/users/${encodeURIComponent(id)}`, undefined, pending),
    restoreUser: (id: string, pending: PendingAction) => call<void>('POST', `/users/${encodeURIComponent(id)}/restore`, undefined, pending),
    invite: (email: string, role?: string) => call<Response<'inviteUser'>>('POST', '/invites', role ? { email, role } : { email }),
    roles: () => call<Response<'listRoleGrants'>>('GET', '/roles'),
    grant: (userId: string, role: string, pending: PendingAction) => call<Response<'grantRole'>>('PUT', `/roles/${encodeURIComponent(userId)}/${role}`, undefined, pending),
    keys: () => call<Response<'listSigningKeys'>>('GET', '/keys'),
    rotateKeys: (pending: PendingAction) => call<Response<'rotateSigningKeys'>>('POST', '/keys/rotate', undefined, pending),
    retireKey: (kid: string, pending: PendingAction) => call<Response<'retireSigningKey'>>('POST', `/keys/${encodeURIComponent(kid)}/retire`, undefined, pending),
    clients: () => call<Response<'listClients'>>('GET', '/clients'),
    client: (id: string) => call<Response<'getClient'>>('GET', `/clients/${encodeURIComponent(id)}`),
    createClient: (body: ClientBody, pending: PendingAction) => call<Response<'createClient'>>('POST', '/clients', body, pending),
    replaceClient: (id: string, body: ClientSettings, pending: PendingAction) => call<Response<'replaceClient'>>('PUT', `/clients/${encodeURIComponent(id)}`, body, pending),
    rotateClientSecret: (id: string, pending: PendingAction) => call<Response<'rotateClientSecret'>>('POST', `/clients/${encodeURIComponent(id)}/secret`, undefined, pending),
    overview: (days: number) => call<Response<'getOverview'>>('GET', `/stats/overview?days=${days}`),
    auditEvents: (query: Record<string, string>) => call<Response<'searchAuditEvents'>>('GET', `/audit/events?${new URLSearchParams(query)}`),
    auditEvent: (id: string) => call<Response<'getAuditEvent'>>('GET', `/audit/events/${encodeURIComponent(id)}`),
    auditCatalogue: () => call<Response<'getAuditCatalogue'>>('GET', '/audit/catalogue'),
    verifyAuditChain: () => call<Response<'verifyAuditChain'>>('GET', '/audit/verify'),
    auditExports: () => call<Response<'listAuditExports'>>('GET', '/audit/exports'),
    auditExport: (id: string) => call<Response<'getAuditExport'>>('GET', `/audit/exports/${encodeURIComponent(id)}`),
    requestAuditExport: (body: Operations['requestAuditExport']['body'], pending: PendingAction) => call<Response<'requestAuditExport'>>('POST', '/audit/exports', body, pending),
    auditExportDownload: (id: string) => `${base}/api/audit/exports/${encodeURIComponent(id)}/download`,
    policies: () => call<Response<'getPolicies'>>('GET', '/policies'),
    changePolicies: (body: PoliciesBody, pending: PendingAction) => call<Response<'changePolicies'>>('PUT', '/policies', body, pending),
    branding: () => call<Response<'getBranding'>>('GET', '/branding'),
    changeBranding: (body: BrandingBody, pending: PendingAction) => call<Response<'changeBranding'>>('PUT', '/branding', body, pending),
    deleteClient: (id: string, pending: PendingAction) => call<void>('DELETE', `/clients/${encodeURIComponent(id)}`, undefined, pending),
    revoke: (userId: string, role: string, pending: PendingAction) => call<Response<'revokeRole'>>('DELETE', `/roles/${encodeURIComponent(userId)}/${role}`, undefined, pending),
  };
}

export type Api = ReturnType<typeof createApi>;
