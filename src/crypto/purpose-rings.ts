// One Fernet key ring per purpose, each from its own variable, so rotating one kind of secret
// never touches (or silently breaks) another:
//   faceTemplates  FACET_EMBEDDING_KEYS  face templates and the duplicate detector's transform seed
//   factorSecrets  FACET_FACTOR_KEYS     TOTP seeds and NFC card keys
// Until a deployment sets FACET_FACTOR_KEYS, factor secrets stay on FACET_EMBEDDING_KEYS (where
// they were sealed before the split); `fallback` says so and boot warns once.
import { parseKeyRing, type KeyRing } from './key-ring.ts';

export type KeyPurpose = 'face' | 'factors';

export const KEY_PURPOSES: readonly KeyPurpose[] = ['face', 'factors'];

/** The environment variable holding each purpose's ring. */
export const KEY_VARIABLES: Readonly<Record<KeyPurpose, string>> = { face: 'FACET_EMBEDDING_KEYS', factors: 'FACET_FACTOR_KEYS' };

export interface PurposeRings {
  faceTemplates: KeyRing;
  factorSecrets: KeyRing;
  /** True when FACET_FACTOR_KEYS is unset and factor secrets use the FACET_EMBEDDING_KEYS ring. */
  factorFallback: boolean;
}

export const FACTOR_KEYS_FALLBACK_WARNING =
  'FACET_FACTOR_KEYS is not set: TOTP seeds and NFC card keys are sealed with FACET_EMBEDDING_KEYS. ' +
  'Set FACET_FACTOR_KEYS=<new key>,<the FACET_EMBEDDING_KEYS keys>, run `facet keys rekey --purpose factors`, then drop the old keys from it';

export function ringFor(rings: PurposeRings, purpose: KeyPurpose): KeyRing {
  return purpose === 'face' ? rings.faceTemplates : rings.factorSecrets;
}

/** The variable an operator edits for this purpose's ring (the fallback names the one really in use). */
export function variableFor(rings: Pick<PurposeRings, 'factorFallback'>, purpose: KeyPurpose): string {
  return purpose === 'factors' && rings.factorFallback ? `${KEY_VARIABLES.face} (standing in for ${KEY_VARIABLES.factors})` : KEY_VARIABLES[purpose];
}

/** Builds both rings from the configuration (config.embeddingKeys, config.factorKeys). */
export function createPurposeRings({ embeddingKeys, factorKeys, factorKeysFallback }: { embeddingKeys: readonly string[]; factorKeys: readonly string[]; factorKeysFallback: boolean }): PurposeRings {
  const faceTemplates = parseKeyRing(embeddingKeys.join(','), { variable: KEY_VARIABLES.face });
  const factorSecrets = factorKeysFallback ? faceTemplates : parseKeyRing(factorKeys.join(','), { variable: KEY_VARIABLES.factors });
  return { faceTemplates, factorSecrets, factorFallback: factorKeysFallback };
}
