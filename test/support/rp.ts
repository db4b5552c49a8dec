// openid-client configurations against a test Facet.
import * as client from 'openid-client';

export async function discover(issuer: string, clientId: string, secret?: string) {
  return client.discovery(new URL(issuer), clientId, secret ? { client_secret: secret } : undefined, secret ? client.ClientSecretBasic(secret) : client.None(), {
    execute: [client.allowInsecureRequests],
  });
}
