// Clients of a tenant, read from its schema and handed to oidc-provider as static clients (which
// it caches). Secrets are resolved from the environment variable each client names.
import type { ClientMetadata } from 'oidc-provider';
import type { TenantDb } from '../db/tenant-scope.ts';
import { resolveSecret } from '../config/client-secrets.ts';
import { openWithKek, sealWithKek } from '../keys/key-encryption.ts';
import { adminResourceIndicator } from './admin-resource.ts';

export { ClientSecretError, resolveSecret } from '../config/client-secrets.ts';


export interface LoadedClients {
  metadata: ClientMetadata[];
  firstParty: Set<string>;
  resources: Map<string, string[]>;
  /** Per-client override of the refresh-token grace window, in seconds. */
  refreshGrace: Map<string, number>;
  minimumAcr: Map<string, string>;
  /** Resource servers (tenant file: introspection: true): they may introspect tokens addressed to their resources. */
  introspectors: Set<string>;
  /** Machine clients of the admin API (tenant file: admin_scopes) and the admin scopes each holds. */
  adminScopes: Map<string, string[]>;
}

/** The built-in first-party client of the hosted console (one per tenant; never from a tenant file). */
export const CONSOLE_CLIENT_ID = 'facet-console';

/**
 * The console's client: authorization code + PKCE, public (the console's back end holds no client
 * secret), redirecting only to the tenant's own /console/callback, first-party (no consent page).
 */
export function consoleClientMetadata(issuer: string, extraRedirects: string[] = []): ClientMetadata {
  return {
    client_id: CONSOLE_CLIENT_ID,
    client_name: 'Facet console',
    // The operator tenant's console client also signs operators in to the platform console (/console).
    redirect_uris: [`${issuer}/console/callback`, ...extraRedirects],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid profile email',
  };
}

/** What binds a console-made client's sealed secret to its tenant and client id. */
export const secretBinding = (slug: string, clientId: string) => `client-secret:${slug}:${clientId}`;

/** Seals the secret of a client made in the console (stored in clients.secret_sealed). */
export function sealClientSecret(kek: string, slug: string, clientId: string, secret: string): string {
  return sealWithKek(kek, secret, secretBinding(slug, clientId));
}

export async function loadClients(
  trx: TenantDb,
  {
    production,
    env = process.env,
    issuer,
    kek,
    slug,
    consoleRedirects = [],
  }: { production: boolean; env?: NodeJS.ProcessEnv; issuer?: string; kek?: string; slug?: string; consoleRedirects?: string[] },
): Promise<LoadedClients> {
  const rows = await trx.selectFrom('clients').select(['client_id', 'metadata', 'secret_env', 'secret_dev', 'secret_sealed', 'first_party']).orderBy('client_id').execute();
  const metadata: ClientMetadata[] = [];
  const firstParty = new Set<string>();
  const resources = new Map<string, string[]>();
  const refreshGrace = new Map<string, number>();
  const minimumAcr = new Map<string, string>();
  const introspectors = new Set<string>();
  const adminScopes = new Map<string, string[]>();
  if (issuer) {
    metadata.push(consoleClientMetadata(issuer, consoleRedirects));
    firstParty.add(CONSOLE_CLIENT_ID);
    resources.set(CONSOLE_CLIENT_ID, []);
  }
  for (const row of rows) {
    // The built-in console client's id is reserved (tenant files cannot declare it).
    if (issuer && row.client_id === CONSOLE_CLIENT_ID) continue;
    const {
      resources: allowed = [],
      refresh_grace_seconds: grace,
      minimum_acr: minimum,
      introspection,
      admin_scopes: admin,
      ...meta
    } = row.metadata as ClientMetadata & {
      resources?: string[];
      refresh_grace_seconds?: number;
      minimum_acr?: string;
      introspection?: boolean;
      admin_scopes?: string[];
    };
    if (introspection === true) introspectors.add(row.client_id as string);
    if (minimum) minimumAcr.set(row.client_id as string, minimum);
    const client: ClientMetadata = { ...meta, client_id: row.client_id as string };
    // A client without the code grant has no front channel: no redirect URIs, no response types.
    if (!client.grant_types?.includes('authorization_code')) {
      client.response_types = [];
      if (!client.redirect_uris?.length) delete client.redirect_uris;
    }
    if (row.secret_env) client.client_secret = resolveSecret(row.client_id as string, row.secret_env as string, row.secret_dev as string | null, production, env);
    else if (row.secret_sealed && kek && slug) client.client_secret = openWithKek(kek, row.secret_sealed, secretBinding(slug, row.client_id as string));
    metadata.push(client);
    if (row.first_party) firstParty.add(row.client_id as string);
    // A client holding admin scopes may ask for the built-in admin resource (src/oidc/admin-resource.ts).
    if (admin?.length && issuer) {
      adminScopes.set(row.client_id as string, admin);
      resources.set(row.client_id as string, [...allowed, adminResourceIndicator(issuer)]);
    } else {
      resources.set(row.client_id as string, allowed);
    }
    if (typeof grace === 'number') refreshGrace.set(row.client_id as string, grace);
  }
  return { metadata, firstParty, resources, refreshGrace, minimumAcr, introspectors, adminScopes };
}

