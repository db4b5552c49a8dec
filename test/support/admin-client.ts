// Admin API access for tests: an access token from client_credentials on the built-in admin
// resource (src/oidc/admin-resource.ts), by the demo tenant's machine client unless told otherwise.
export const DEMO_ADMIN_CLIENT = { clientId: 'demo-admin', secret: 'demo-admin-dev-secret' } as const;

export interface AdminTokenOptions {
  slug?: string;
  clientId?: string;
  secret?: string;
  /** Space-separated admin scopes (default: every scope the client holds). */
  scope?: string;
  /** The server's PUBLIC_URL when it differs from where the token is asked for (behind a proxy). */
  publicUrl?: string;
}

/** A fresh admin access token (JWT) for `<baseUrl>/t/<slug>/admin/api`. */
export async function adminAccessToken(baseUrl: string, options: AdminTokenOptions = {}): Promise<string> {
  return (await requestAdminToken(baseUrl, options)).token;
}

async function requestAdminToken(
  baseUrl: string,
  { slug = 'demo', clientId = DEMO_ADMIN_CLIENT.clientId, secret = DEMO_ADMIN_CLIENT.secret, scope, publicUrl = baseUrl }: AdminTokenOptions,
): Promise<{ token: string; expiresAt: number }> {
  const issuer = `${publicUrl}/t/${slug}`;
  const response = await fetch(`${baseUrl}/t/${slug}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${issuer}/admin/api`, ...(scope ? { scope } : { scope: 'admin:read admin:write audit:read' }) }),
  });
  const body = (await response.json()) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (!response.ok || !body.access_token) throw new Error(`admin token for ${clientId} at ${slug}: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
  return { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 600) * 1000 };
}

/**
 * For long runs (chaos, fuzz, outages): the `Bearer …` header value, fetched once and again only
 * when the token is within a minute of expiry — so a call made while the database is down reuses
 * the token got before.
 */
export function adminAuthorizer(baseUrl: string, options: AdminTokenOptions = {}): () => Promise<string> {
  let current: { token: string; expiresAt: number } | undefined;
  return async () => {
    if (!current || current.expiresAt - Date.now() < 60_000) {
      try {
        current = await requestAdminToken(baseUrl, options);
      } catch (error) {
        // The server may be the thing under test (an outage): a token not yet expired still serves.
        if (!current || current.expiresAt <= Date.now()) throw error;
      }
    }
    return `Bearer ${current.token}`;
  };
}

/** `Bearer <token>` for the Authorization header. */
export async function adminAuthorization(baseUrl: string, options: AdminTokenOptions = {}): Promise<string> {
  return `Bearer ${await adminAccessToken(baseUrl, options)}`;
}
