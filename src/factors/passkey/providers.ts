// The passkey provider behind an AAGUID ("Google Password Manager", "iCloud Keychain"), from the
// community list bundled in aaguid-names.json (regenerate with scripts/aaguid-names.ts). Used only
// to name passkeys for their owner; it says nothing about the authenticator's security.
import { readFileSync } from 'node:fs';

const BUNDLED = JSON.parse(readFileSync(new URL('./aaguid-names.json', import.meta.url), 'utf8')) as { names: Record<string, string> };
const NAMES = new Map(Object.entries(BUNDLED.names));

/** The provider's name, or undefined for an unknown or all-zero AAGUID. */
export function passkeyProviderName(aaguid: string | null | undefined): string | undefined {
  if (!aaguid) return undefined;
  return NAMES.get(aaguid.toLowerCase());
}

/** The name a new passkey gets: its provider's when known, else "Passkey <date>". */
export function defaultPasskeyName(aaguid: string | null | undefined, at: Date): string {
  return passkeyProviderName(aaguid) ?? `Passkey ${at.toISOString().slice(0, 10)}`;
}

const DATED_DEFAULT = /^Passkey \d{4}-\d{2}-\d{2}$/;

/** What the account page shows: a name the user gave, else the provider's name where known. */
export function passkeyDisplayName(name: string, aaguid: string | null | undefined): string {
  if (!DATED_DEFAULT.test(name)) return name;
  return passkeyProviderName(aaguid) ?? name;
}
