// Passkeys (WebAuthn). The only module that imports @simplewebauthn/server.
export { relyingPartyFor, type RelyingParty } from './relying-party.ts';
export { passkeyAmr, PASSKEY_ACR } from './amr.ts';
export { startAuthentication, finishAuthentication, type PasskeySignIn, type UserVerificationPolicy } from './authentication.ts';
export { startRegistration, finishRegistration, type AttestationPolicy, type VerifiedPasskey } from './registration.ts';
export { issueChallenge, consumeChallenge, purgeExpiredChallenges, CHALLENGE_TTL_SECONDS } from './challenges.ts';
export {
  findCredentialWithOwner,
  listCredentials,
  insertCredential,
  renameCredential,
  removeCredential,
  type StoredCredential,
} from './credentials.ts';
export type { PasskeyFailure, PasskeyFailureCode } from './result.ts';
export type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
