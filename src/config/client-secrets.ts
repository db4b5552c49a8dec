// Client secrets named in tenant files: read from the environment variable each client names, with
// the file's development fallback outside production. Production refuses a missing, published or
// weak secret. (Used when a tenant file is applied and by the admin API's token check.)
import { isDevSecret } from './dev-secrets.ts';
import { FacetError } from '../errors/facet-error.ts';
import { secretWeakness } from './secret-strength.ts';

export class ClientSecretError extends FacetError {
  override name = 'ClientSecretError';
  readonly code = 'client_secret_unavailable';
}

export function resolveSecret(clientId: string, envName: string, devFallback: string | null, production: boolean, env: NodeJS.ProcessEnv): string {
  const value = env[envName];
  if (production) {
    if (!value) throw new ClientSecretError(`client ${clientId}: environment variable ${envName} is not set (required in production)`);
    if (value === devFallback || isDevSecret(value)) {
      throw new ClientSecretError(`client ${clientId}: ${envName} holds the published development secret; set a real one`);
    }
    const weakness = secretWeakness(envName, value);
    if (weakness) throw new ClientSecretError(`client ${clientId}: ${weakness}`);
    return value;
  }
  const secret = value ?? devFallback;
  if (!secret) throw new ClientSecretError(`client ${clientId}: set ${envName} (no development fallback is declared)`);
  return secret;
}
