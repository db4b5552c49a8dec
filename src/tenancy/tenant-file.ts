// Declarative tenants: `tenants/<slug>.yaml`, validated by this schema (also published as
// tenants/tenant.schema.json for editors).
import { readFile } from 'node:fs/promises';
import { FacetError } from '../errors/facet-error.ts';
import { REFRESH_DEFAULTS } from '../config/defaults.ts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { acrPolicySchema, acrValueSchema } from '../stepup/acr-policy.ts';
import { brandColorProblem } from './brand-color.ts';
import { rateLimitsSchema, SIGNUP_MODES, USER_VERIFICATION_MODES } from './policy-schemas.ts';

const secretRef = z
  .object({
    /** Environment variable holding the secret; the database stores only this name. */
    env: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name such as DEMO_WEB_SECRET'),
    /** Published fallback for development only; refused in production. */
    dev: z.string().min(16).optional(),
  })
  .strict();

export const clientSchema = z
  .object({
    client_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,127}$/),
    client_name: z.string().optional(),
    /** First-party clients skip the consent screen. */
    first_party: z.boolean().default(false),
    redirect_uris: z.array(z.url()).default([]),
    post_logout_redirect_uris: z.array(z.url()).default([]),
    grant_types: z
      .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']))
      .min(1),
    response_types: z.array(z.enum(['code', 'none'])).optional(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']).default('client_secret_basic'),
    secret: secretRef.optional(),
    scope: z.string().optional(),
    backchannel_logout_uri: z.url().optional(),
    backchannel_logout_session_required: z.boolean().optional(),
    default_acr_values: z.array(z.string()).optional(),
    /** The weakest acr this client ever accepts (enforced even when it asks for less). */
    minimum_acr: z.string().optional(),
    jwks_uri: z.url().optional(),
    /** Resource indicators this client may request tokens for (or, with `introspection`, serves). */
    resources: z.array(z.url()).default([]),
    /**
     * A resource server: it may introspect access tokens addressed to one of its `resources`.
     * Every client may introspect the tokens issued to itself.
     */
    introspection: z.boolean().default(false),
    /** Refresh-token reuse grace window override, 0–60 s. */
    refresh_grace_seconds: z.number().int().min(0).max(60).optional(),
    /**
     * A machine client of the admin API: the admin scopes it may ask for with client_credentials
     * on the built-in admin resource `<issuer>/admin/api` (admin:read = reads, admin:write =
     * writes, audit:read = the audit routes). docs/admin-api.md.
     */
    admin_scopes: z.array(z.enum(['admin:read', 'admin:write', 'audit:read'])).optional(),
  })
  .strict()
  .superRefine((client, ctx) => {
    if (client.admin_scopes?.length && !client.grant_types.includes('client_credentials')) {
      ctx.addIssue({ code: 'custom', path: ['admin_scopes'], message: 'admin scopes are used with client_credentials: add it to grant_types' });
    }
    const confidential = client.token_endpoint_auth_method.startsWith('client_secret');
    if (confidential && !client.secret) ctx.addIssue({ code: 'custom', path: ['secret'], message: `${client.token_endpoint_auth_method} needs a secret` });
    if (client.grant_types.includes('authorization_code') && client.redirect_uris.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redirect_uris'], message: 'authorization_code needs at least one redirect URI' });
    }
    if (client.token_endpoint_auth_method === 'none' && client.grant_types.includes('client_credentials')) {
      ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'a public client cannot use client_credentials' });
    }
  });

export const resourceSchema = z
  .object({
    indicator: z.url(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/)).default([]),
    access_token_format: z.enum(['jwt', 'opaque']).default('jwt'),
    /** Seconds; default 600 for JWT access tokens (they cannot be recalled from an API that verifies them itself); opaque ones: 3600 (user tokens), 600 (client_credentials). */
    access_token_ttl: z.number().int().min(60).max(86400).optional(),
  })
  .strict();

/** Console roles (src/admin/roles.ts says what each may do). */
export const ADMIN_ROLES = ['admin', 'helpdesk', 'auditor'] as const;

/** One `admins:` entry: a user of this tenant (username or email address) and the role they hold. */
export const fileAdminSchema = z
  .object({
    user: z.string().trim().min(1).max(320),
    role: z.enum(ADMIN_ROLES).default('admin'),
  })
  .strict();

const tenantSettingsObject = z
  .object({
    signup: z.enum(SIGNUP_MODES).default('invite'),
    user_verification: z.enum(USER_VERIFICATION_MODES).default('required'),
    logo_url: z.url().optional(),
    /** Buttons and links in the tenant's colour (#rrggbb); refused below 4.5:1 against white (src/tenancy/brand-color.ts). */
    brand_color: z
      .string()
      .superRefine((value, ctx) => {
        const problem = brandColorProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    /** A custom domain gives the tenant its own WebAuthn RP ID. */
    domain: z.string().optional(),
    dynamic_registration: z.boolean().default(false),
    /** Consent shown before face enrolment; the tenant's own wording (a default text applies when absent). */
    face_consent_text: z.string().min(1).max(4000).optional(),
    /** The acr vocabulary (see README: acr values); defaults apply when absent. */
    acr: acrPolicySchema.optional(),
    /** The acr a sensitive console action needs, stepped up to within 5 minutes (default urn:facet:acr:passkey+otp). */
    admin_acr: z.optional(acrValueSchema),
    /** How long audit events are kept (days, default 400); older rows go behind a signed checkpoint (docs/audit.md). */
    audit_retention_days: z.number().int().min(1).max(36500).optional(),
    /** Rate-limit overrides, e.g. { "signin.ip": { "points": 100 } }. */
    rate_limits: z.optional(rateLimitsSchema),
    /** Passkey attestation: none (default), or direct with an allow-list of authenticator AAGUIDs. */
    attestation: z
      .object({ mode: z.enum(['none', 'direct']).default('none'), aaguids: z.array(z.string().regex(/^[0-9a-fA-F-]{36}$/)).default([]) })
      .strict()
      .optional(),
    refresh_tokens: z
      .object({
        grace_seconds: z.number().int().min(0).max(60).default(REFRESH_DEFAULTS.graceSeconds),
        absolute_lifetime_seconds: z.number().int().min(3600).default(REFRESH_DEFAULTS.absoluteSeconds),
        idle_timeout_seconds: z.number().int().min(300).default(REFRESH_DEFAULTS.idleSeconds),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const tenantSettingsSchema = tenantSettingsObject.prefault({});

/**
 * What `control.tenants.settings` holds: the file's settings plus its `resources` and `admins`
 * (src/tenancy/apply.ts stores them together). Parsed once when the tenant is loaded
 * (src/tenancy/registry.ts) and read typed everywhere.
 */
export const storedTenantSettingsSchema = tenantSettingsObject
  .extend({
    resources: z.array(resourceSchema).default([]),
    admins: z.array(fileAdminSchema).optional(),
  })
  .strict();

/**
 * Settings no longer in the schema, read only to tell an operator what replaced them
 * (src/admin/legacy-admin-token.ts). Everything else in a stored row is ignored here.
 */
export const legacyTenantSettingsSchema = z.object({ admin_token: z.unknown().optional() });

export const tenantFileSchema = z
  .object({
    slug: z.string(),
    name: z.string().min(1).max(120),
    settings: tenantSettingsSchema,
    resources: z.array(resourceSchema).default([]),
    clients: z.array(clientSchema).default([]),
    /** Console roles held by users of this tenant, by username or email (kept in step on every apply). */
    admins: z.array(fileAdminSchema).default([]),
  })
  .strict();

export type TenantFile = z.infer<typeof tenantFileSchema>;
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
export type StoredTenantSettings = z.infer<typeof storedTenantSettingsSchema>;
export type ClientDefinition = z.infer<typeof clientSchema>;
export type ResourceDefinition = z.infer<typeof resourceSchema>;

/** What a tenant file (or environment) that still sets the static admin token is told at boot. */
export const ADMIN_TOKEN_GONE =
  'settings.admin_token is no longer supported: the admin API takes OAuth access tokens now. Remove it and declare a machine client instead, e.g. ' +
  '{ client_id: ops-bot, grant_types: [client_credentials], secret: { env: OPS_BOT_SECRET }, admin_scopes: [admin:read, admin:write, audit:read] }, ' +
  'then get a token with POST /t/<slug>/token grant_type=client_credentials resource=<issuer>/admin/api (docs/admin-api.md).';

export class TenantFileError extends FacetError {
  override name = 'TenantFileError';
  readonly code = 'invalid_tenant_file';
}

export function parseTenantFile(text: string, source = 'tenant file'): TenantFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new TenantFileError(`${source}: not valid YAML (${(cause as Error).message})`);
  }
  // The static admin token is gone; say what replaces it rather than 'unrecognized key'.
  if ((raw as { settings?: { admin_token?: unknown } } | null)?.settings?.admin_token !== undefined) throw new TenantFileError(`${source}: ${ADMIN_TOKEN_GONE}`);
  const parsed = tenantFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new TenantFileError(`${source}:\n  ${problems.join('\n  ')}`);
  }
  const ids = parsed.data.clients.map((c) => c.client_id);
  const dupe = ids.find((id, index) => ids.indexOf(id) !== index);
  if (dupe) throw new TenantFileError(`${source}: client_id ${dupe} appears twice`);
  if (ids.includes('facet-console')) throw new TenantFileError(`${source}: client_id facet-console is reserved for the built-in console client`);
  return parsed.data;
}

export async function readTenantFile(file: string): Promise<TenantFile> {
  return parseTenantFile(await readFile(file, 'utf8'), file);
}

export function tenantJsonSchema(): unknown {
  return z.toJSONSchema(tenantFileSchema, { io: 'input' });
}
