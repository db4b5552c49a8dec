// The console's client of the admin API: every call goes to /t/<slug>/console/api/… with the
// session cookie (sent by the browser, HttpOnly) and the session's CSRF token in a header. A 401
// sends the browser to sign in again; a 403 step_up_required remembers the action and sends it to
// Facet's own step-up (the console comes back to this page and offers the action again).
// Types follow the admin API's OpenAPI document (/t/<slug>/admin/api/openapi.json).

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  redirect?: string;
  acr?: string;
}

export type Result<T> = { ok: true; status: number; data: T } | { ok: false; status: number; problem: Problem };

export interface Me {
  kind: 'console' | 'token';
  user: { id: string; username: string } | null;
  roles: string[];
  acr: string | null;
  adminAcr: string;
  stepUpFreshUntil: string | null;
  roleSummary: Record<string, string>;
}

export interface UserSummary {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  status: string;
  createdAt: string;
  deletedAt: string | null;
  roles: string[];
}

export interface FactorRow {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  detail: string | null;
}

export interface UserDetail {
  user: UserSummary & { emailVerified: boolean };
  factors: { passkeys: FactorRow[]; otp: FactorRow | null; nfc: FactorRow[]; face: FactorRow[]; recoveryCodesLeft: number };
  lockouts: Array<{ factor: string; failures: number; lockedUntil: string | null; disabled: boolean }>;
  connectedApps: Array<{ clientId: string; families: number; lastUsedAt: string }>;
  sessions: { account: number; console: number };
  events: Array<{ id: string; at: string; type: string; actor: string | null; ip: string | null; clientId: string | null }>;
}

export interface RoleGrant {
  userId: string;
  username: string;
  email: string | null;
  role: string;
  source: string;
  grantedBy: string | null;
  grantedAt: string;
}

export interface SigningKey {
  kid: string;
  alg: string;
  status: 'active' | 'retiring' | 'retired';
  createdAt: string;
  retireAt: string | null;
}

export interface ClientSummary {
  clientId: string;
  name: string | null;
  firstParty: boolean;
  grantTypes: string[];
  redirectUris: string[];
  authMethod: string;
  minimumAcr: string | null;
  managedBy: string;
  readOnly: boolean;
  createdAt: string | null;
}

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
      problem = { title: response.statusText, status: response.status, detail: `The server answered ${response.status}.`, code: 'unknown' };
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
    me: () => call<Me>('GET', '/me'),
    users: (query: Record<string, string>) => call<{ users: UserSummary[]; next: string | null }>('GET', `/users?${new URLSearchParams(query)}`),
    user: (id: string) => call<UserDetail>('GET', `/users/${encodeURIComponent(id)}`),
    signOut: (id: string) => call<{ families_ended: number; sessions: number; records: number }>('POST', `/users/${encodeURIComponent(id)}/sign-out`),
    lock: (id: string, factor?: string) => call<{ locked: string }>('POST', `/users/${encodeURIComponent(id)}/lock`, factor ? { factor } : {}),
    unlockAccount: (id: string) => call<{ unlocked: boolean }>('POST', `/users/${encodeURIComponent(id)}/unlock-account`),
    unlockFactors: (id: string, factor?: string) => call<{ unlocked: string[] }>('POST', `/users/${encodeURIComponent(id)}/unlock`, factor ? { factor } : {}),
    resetFactor: (id: string, factor: string) => call<{ factor: string; removed: number }>('POST', `/users/${encodeURIComponent(id)}/reset-factor`, { factor }),
    deleteUser: (id: string, pending: PendingAction) => call<void>('DELETE', `/users/${encodeURIComponent(id)}`, undefined, pending),
    restoreUser: (id: string, pending: PendingAction) => call<void>('POST', `/users/${encodeURIComponent(id)}/restore`, undefined, pending),
    invite: (email: string, role?: string) => call<{ url: string; email: string; role: string | null; expiresAt: string }>('POST', '/invites', role ? { email, role } : { email }),
    roles: () => call<{ roles: RoleGrant[]; summary: Record<string, string> }>('GET', '/roles'),
    grant: (userId: string, role: string, pending: PendingAction) => call<{ granted: boolean; roles: string[] }>('PUT', `/roles/${encodeURIComponent(userId)}/${role}`, undefined, pending),
    keys: () => call<{ keys: SigningKey[]; overlapSeconds: number }>('GET', '/keys'),
    rotateKeys: (pending: PendingAction) => call<{ created: string[]; retiring: string[]; retired: string[] }>('POST', '/keys/rotate', undefined, pending),
    clients: () => call<{ clients: ClientSummary[] }>('GET', '/clients'),
    revoke: (userId: string, role: string, pending: PendingAction) => call<{ revoked: boolean; roles: string[] }>('DELETE', `/roles/${encodeURIComponent(userId)}/${role}`, undefined, pending),
  };
}

export type Api = ReturnType<typeof createApi>;
