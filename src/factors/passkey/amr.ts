// RFC 8176 authentication method references for a passkey assertion.
//
// Rule: a backup-eligible credential (BE flag set: a synced, multi-device passkey whose private
// key can leave the authenticator) is `swk`; a device-bound one (BE clear: security key, platform
// key that never syncs) is `hwk`. `user` is added when the authenticator reported user
// verification (UV flag: PIN or biometric), which also makes the passkey a multi-factor sign-in.
export function passkeyAmr({ backupEligible, userVerified }: { backupEligible: boolean; userVerified: boolean }): string[] {
  return [backupEligible ? 'swk' : 'hwk', ...(userVerified ? ['user'] : [])];
}

/** The acr value of a passkey sign-in (see docs/passkeys.md for the vocabulary). */
export const PASSKEY_ACR = 'urn:facet:acr:passkey';
