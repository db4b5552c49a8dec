// What an administrator sets on an application (issue 12): the admin API's body schemas for
// creating and replacing a client, with the rules across fields placed on the field to change.
// Only zod, no server imports. (The console does not bundle them: zod would add ~450 KB to its
// script; the API's answer names each bad field and the form shows it there.)
import { z } from 'zod';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
/** How a client authenticates at the token endpoint (private_key_jwt needs a key set: tenant files only). */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{1,127}$/;

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
  .max(2000)
  .refine((value) => !value.includes('#'), 'a redirect URI has no fragment (#…)');

/** What an administrator sets on a client (create and replace): the console's form, field by field. */
export const clientSettings = z
  .object({
    name: z.string().trim().min(1, 'give the application a name').max(100),
    redirectUris: z.array(httpUrl).max(20).default([]),
    postLogoutRedirectUris: z.array(httpUrl).max(20).default([]),
    grantTypes: z.array(z.enum(GRANT_TYPES)).min(1, 'choose at least one grant type'),
    authMethod: z.enum(AUTH_METHODS).default('client_secret_basic'),
    firstParty: z.boolean().default(false),
    minimumAcr: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'an acr value').nullable().default(null),
    refreshGraceSeconds: z.number().int().min(0).max(60).nullable().default(null),
  })
  .strict();

/** The rules that span fields (the tenant file's own, src/tenancy/tenant-file.ts), each on the field to change. */
function crossFieldRules(client: z.output<typeof clientSettings>, ctx: z.RefinementCtx): void {
  const grants = new Set(client.grantTypes);
  if (grants.has('authorization_code') && client.redirectUris.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'authorization_code needs at least one redirect URI' });
  }
  if (!grants.has('authorization_code') && client.redirectUris.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'redirect URIs are only used with authorization_code' });
  }
  if (client.authMethod === 'none' && grants.has('client_credentials')) {
    ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'a public client (no authentication) cannot use client_credentials' });
  }
  if (grants.has('refresh_token') && !grants.has('authorization_code') && !grants.has('urn:ietf:params:oauth:grant-type:device_code')) {
    ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'refresh_token comes with authorization_code or the device grant' });
  }
}

export const createClientBody = clientSettings
  .extend({ clientId: z.string().regex(CLIENT_ID, '2–128 letters, digits, dots, dashes or underscores, starting with a letter or digit').optional() })
  .superRefine(crossFieldRules);
export const replaceClientBody = clientSettings.superRefine(crossFieldRules);
