// Turns failure codes into the user-facing sentence, with the tenant's name filled in.
import { fill, type Strings } from '../../views/strings/index.ts';

export function passkeyMessage(t: Strings, code: string, tenantName: string): string {
  return fill(t.errors.passkey[code] ?? t.errors.generic, { tenant: tenantName });
}
