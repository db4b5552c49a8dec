// The enrolment ceremony: creation options (resident key required, user verification per tenant
// policy, attestation none or direct with an AAGUID allow-list) and verification of the result.
// Storing the credential is the caller's job, so sign-up can create the user in the same step.
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { TenantDb } from '../../db/tenant-scope.ts';
import type { UserVerificationPolicy } from './authentication.ts';
import { consumeChallenge, issueChallenge, type StoredChallenge } from './challenges.ts';
import { credentialExists, listCredentials, type StoredCredential } from './credentials.ts';
import type { RelyingParty } from './relying-party.ts';
import { failure, type PasskeyFailure } from './result.ts';
import { reasonToRefuse } from './response-checks.ts';

export interface AttestationPolicy {
  mode: 'none' | 'direct';
  aaguids?: string[];
}

export async function startRegistration(
  trx: TenantDb,
  {
    rp,
    binding,
    user,
    userVerification,
    attestation = { mode: 'none' },
    data = {},
    now = new Date(),
  }: {
    rp: RelyingParty;
    binding: string;
    /** id is absent while signing up: the account is created only once the passkey verifies. */
    user: { id?: string; handle: string; username: string; displayName: string };
    userVerification: UserVerificationPolicy;
    attestation?: AttestationPolicy;
    data?: Record<string, unknown>;
    now?: Date;
  },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { challenge } = await issueChallenge(trx, { binding, purpose: 'registration', userId: user.id ?? null, data, now });
  const existing = user.id ? await listCredentials(trx, user.id) : [];
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.username,
    userDisplayName: user.displayName,
    userID: new Uint8Array(Buffer.from(user.handle, 'base64url')),
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    timeout: 180_000,
    attestationType: attestation.mode,
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification },
  });
}

export type VerifiedPasskey = Omit<StoredCredential, 'id' | 'userId' | 'createdAt' | 'lastUsedAt' | 'name' | 'userHandle'> & { userVerified: boolean };

export async function finishRegistration(
  trx: TenantDb,
  {
    rp,
    binding,
    response,
    userVerification,
    attestation = { mode: 'none' },
    now = new Date(),
  }: { rp: RelyingParty; binding: string; response: RegistrationResponseJSON; userVerification: UserVerificationPolicy; attestation?: AttestationPolicy; now?: Date },
): Promise<{ ok: true; passkey: VerifiedPasskey; challenge: StoredChallenge } | PasskeyFailure> {
  const consumed = await consumeChallenge(trx, { binding, purpose: 'registration', now });
  if (!consumed.ok) return failure(consumed.code, consumed.code === 'challenge_expired' ? 'challenge past its expiry' : 'no outstanding challenge');
  const refusedResponse = reasonToRefuse(
    { kind: 'registration', response },
    { challenge: consumed.stored.challenge, origin: rp.origin, rpId: rp.id, requireUserVerification: userVerification === 'required' },
  );
  if (refusedResponse) return failure(refusedResponse.code, refusedResponse.detail);
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: consumed.stored.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: userVerification === 'required',
    });
  } catch (error) {
    return failure('invalid_response', (error as Error).message);
  }
  if (!verification.verified) return failure('invalid_response', 'attestation did not verify');
  const info = verification.registrationInfo;
  if (attestation.mode === 'direct') {
    const allowed = (attestation.aaguids ?? []).map((a) => a.toLowerCase());
    if (info.fmt === 'none' || !allowed.includes(info.aaguid.toLowerCase())) {
      return failure('attestation_refused', `authenticator ${info.aaguid} (${info.fmt}) is not on the allow-list`);
    }
  }
  if (await credentialExists(trx, info.credential.id)) return failure('already_registered', 'credential id already registered');
  return {
    ok: true,
    challenge: consumed.stored,
    passkey: {
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      signCount: info.credential.counter,
      transports: info.credential.transports ?? response.response.transports ?? [],
      aaguid: info.aaguid,
      attestationFormat: info.fmt,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backupState: info.credentialBackedUp,
      userVerified: info.userVerified,
    },
  };
}
