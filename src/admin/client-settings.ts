// What an administrator sets on an application (issue 12): the admin API's body schemas for
// creating and replacing a client, with the rules across fields placed on the field to change.
// Written with `zod/mini` and importing nothing of the server, so the console bundles these very
// schemas and checks its form before sending (public/scripts/console/pages/client-form.tsx) for a
// few KB, where classic zod would add ~450 KB; the guard and the OpenAPI document take them as any
// other zod schema.
import * as z from 'zod/mini';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
/** How a client authenticates at the token endpoint (private_key_jwt: a JWT signed with a key of its key set, RFC 7523). */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{1,127}$/;

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).check(
  z.maxLength(2000),
  z.refine((value) => !value.includes('#'), 'a redirect URI has no fragment (#…)'),
);

/** One public key of a client's key set: a private part (d, p, q, dp, dq, qi, k) is refused. */
const publicJwk = z.looseObject({ kty: z.enum(['EC', 'RSA', 'OKP']) }).check(
  z.refine((key) => !['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((part) => part in key), 'a public key only: remove its private part'),
);

/** What an administrator sets on a client (create and replace): the console's form, field by field. */
export const clientSettingsShape = {
  name: z.string().check(z.trim(), z.minLength(1, 'give the application a name'), z.maxLength(100)),
  redirectUris: z._default(z.array(httpUrl).check(z.maxLength(20)), []),
  postLogoutRedirectUris: z._default(z.array(httpUrl).check(z.maxLength(20)), []),
  grantTypes: z.array(z.enum(GRANT_TYPES)).check(z.minLength(1, 'choose at least one grant type')),
  authMethod: z._default(z.enum(AUTH_METHODS), 'client_secret_basic'),
  firstParty: z._default(z.boolean(), false),
  minimumAcr: z._default(z.nullable(z.string().check(z.regex(/^[\x21-\x7e]{1,200}$/, 'an acr value'))), null),
  refreshGraceSeconds: z._default(z.nullable(z.int().check(z.minimum(0), z.maximum(60))), null),
  /** private_key_jwt: where the client publishes its public keys (https) … */
  jwksUri: z._default(z.nullable(z.url({ protocol: /^https$/, error: 'an https:// URL of a JSON Web Key Set' }).check(z.maxLength(2000))), null),
  /** … or the keys themselves: a JSON Web Key Set of public keys only. */
  jwks: z._default(z.nullable(z.strictObject({ keys: z.array(publicJwk).check(z.minLength(1, 'at least one key'), z.maxLength(10)) })), null),
};
export const clientSettings = z.strictObject(clientSettingsShape);
export type ClientSettings = z.output<typeof clientSettings>;

/** The rules that span fields (the tenant file's own, src/tenancy/tenant-file.ts), each on the field to change. */
const crossFieldRules = z.superRefine((client: ClientSettings, ctx) => {
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
  const keyed = client.authMethod === 'private_key_jwt';
  if (keyed && !client.jwksUri && !client.jwks) {
    ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'private_key_jwt needs the client\'s public keys: a key set URL or the key set itself' });
  }
  if (client.jwksUri && client.jwks) ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'give either a key set URL or the key set, not both' });
  if (!keyed && (client.jwksUri || client.jwks)) {
    ctx.addIssue({ code: 'custom', path: [client.jwks ? 'jwks' : 'jwksUri'], message: 'keys are only used with private_key_jwt' });
  }
  if (grants.has('refresh_token') && !grants.has('authorization_code') && !grants.has('urn:ietf:params:oauth:grant-type:device_code')) {
    ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'refresh_token comes with authorization_code or the device grant' });
  }
});

export const createClientBody = z
  .strictObject({
    ...clientSettingsShape,
    clientId: z.optional(z.string().check(z.regex(CLIENT_ID, '2–128 letters, digits, dots, dashes or underscores, starting with a letter or digit'))),
  })
  .check(crossFieldRules);
export const replaceClientBody = z.strictObject(clientSettingsShape).check(crossFieldRules);
