// The sign-in ceremony: options with a stored challenge, then verification of the assertion
// against a credential found in this tenant's schema only.
import { createHmac } from 'node:crypto';
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { TenantDb } from '../../db/tenant-scope.ts';
import type { User } from '../../accounts/users.ts';
import { passkeyAmr } from './amr.ts';
import { issueChallenge } from './challenges.ts';
import { listCredentials, recordCredentialUse, takeChallengeWithCredential, type StoredCredential } from './credentials.ts';
import type { RelyingParty } from './relying-party.ts';
import { failure, type PasskeyFailure } from './result.ts';
import { reasonToRefuse } from './response-checks.ts';

export type UserVerificationPolicy = 'required' | 'preferred';

export async function startAuthentication(
  trx: TenantDb,
  {
    rp,
    binding,
    userVerification,
    user,
    unknownUsername,
    now = new Date(),
  }: {
    rp: RelyingParty;
    binding: string;
    userVerification: UserVerificationPolicy;
    /** Username-first path: offer this user's credentials (allowCredentials). */
    user?: User;
    /** Username-first path for a name we do not know: stable decoy ids, so existence is not revealed. */
    unknownUsername?: { name: string; key: string };
    now?: Date;
  },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { challenge } = await issueChallenge(trx, { binding, purpose: 'authentication', userId: user?.id ?? null, now });
  let allowCredentials: Array<{ id: string; transports?: any[] }> | undefined;
  if (user) {
    allowCredentials = (await listCredentials(trx, user.id)).map((c) => ({ id: c.credentialId, transports: c.transports }));
  } else if (unknownUsername) {
    allowCredentials = [{ id: createHmac('sha256', unknownUsername.key).update(`decoy:${unknownUsername.name.toLowerCase()}`).digest('base64url') }];
  }
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    userVerification,
    timeout: 120_000,
    ...(allowCredentials ? { allowCredentials } : {}),
  });
}

export interface PasskeySignIn {
  ok: true;
  user: User;
  credential: StoredCredential;
  amr: string[];
  userVerified: boolean;
  backupState: boolean;
}

export async function finishAuthentication(
  trx: TenantDb,
  {
    rp,
    binding,
    response,
    userVerification,
    refuseBeforeVerifying,
    later,
    now = new Date(),
  }: {
    rp: RelyingParty;
    binding: string;
    response: AuthenticationResponseJSON;
    /** Where the counter update goes: withTenantPipeline's `later` sends it with the COMMIT. Default: trx. */
    later?: TenantDb;
    userVerification: UserVerificationPolicy;
    /** Asked once the account is known, before the signature is checked (a locked factor is never verified). */
    refuseBeforeVerifying?: (user: User) => Promise<PasskeyFailure | undefined>;
    now?: Date;
  },
): Promise<PasskeySignIn | PasskeyFailure> {
  const credentialId = typeof response?.id === 'string' ? response.id : '';
  // One statement: the challenge is spent (whatever follows) and the credential read with its live
  // owner. Only this tenant's schema is searched: a credential of another tenant looks exactly like
  // one that does not exist anywhere.
  const { challenge: consumed, found } = await takeChallengeWithCredential(trx, { binding, purpose: 'authentication', credentialId, now });
  if (!consumed.ok) return failure(consumed.code, consumed.code === 'challenge_expired' ? 'challenge past its expiry' : 'no outstanding challenge');
  if (!found) return failure('unknown_credential', 'credential not registered in this tenant');
  const { credential, user } = found;
  const ids = { userId: user.id, credentialId: credential.credentialId };
  if (consumed.stored.userId && consumed.stored.userId !== user.id) return failure('unknown_credential', 'credential of another user than the one named', ids);
  if (response.response.userHandle && response.response.userHandle !== credential.userHandle) {
    return failure('user_handle_mismatch', 'user handle does not match the credential', ids);
  }
  if (user.status !== 'active') return failure('account_unavailable', `account is ${user.status}`, ids);
  const refused = await refuseBeforeVerifying?.(user);
  if (refused) return refused;

  const refusedResponse = reasonToRefuse(
    { kind: 'authentication', response },
    { challenge: consumed.stored.challenge, origin: rp.origin, rpId: rp.id, requireUserVerification: userVerification === 'required', storedCounter: credential.signCount },
  );
  if (refusedResponse) return failure(refusedResponse.code, refusedResponse.detail, ids);
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: consumed.stored.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: userVerification === 'required',
      credential: {
        id: credential.credentialId,
        publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')),
        counter: credential.signCount,
        transports: credential.transports as any,
      },
    });
  } catch (error) {
    return failure('invalid_response', (error as Error).message, ids);
  }
  if (!verification.verified) return failure('invalid_response', 'signature did not verify', ids);
  const info = verification.authenticationInfo;
  await recordCredentialUse(later ?? trx, credential.id, { signCount: info.newCounter, backupState: info.credentialBackedUp, at: now });
  const backupEligible = info.credentialDeviceType === 'multiDevice';
  return {
    ok: true,
    user,
    credential,
    userVerified: info.userVerified,
    backupState: info.credentialBackedUp,
    amr: passkeyAmr({ backupEligible, userVerified: info.userVerified }),
  };
}
