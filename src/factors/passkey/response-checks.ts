// The checks of a WebAuthn response whose failure has its own reason code, made on the decoded
// response before SimpleWebAuthn verifies it. The library says why it refuses only in its error
// messages; making these checks ourselves, in the library's order, carries each reason as a code
// (never parsed back out of a message). Whatever the library still refuses after them is
// `invalid_response` (its message kept as the internal detail).
import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeAttestationObject, decodeClientDataJSON, isoBase64URL, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { PasskeyFailureCode } from './result.ts';

export interface ExpectedResponse {
  challenge: string;
  origin: string;
  rpId: string;
  requireUserVerification: boolean;
  /** Authentication: the stored signature counter (a clone shows a counter that went back). */
  storedCounter?: number;
}

type Ceremony = { kind: 'authentication'; response: AuthenticationResponseJSON } | { kind: 'registration'; response: RegistrationResponseJSON };

export interface Refusal {
  code: PasskeyFailureCode;
  /** For logs and the audit trail only. */
  detail: string;
}

/** The reason to refuse this response, or undefined when the library should verify it. */
export function reasonToRefuse(ceremony: Ceremony, expected: ExpectedResponse): Refusal | undefined {
  const refuse = (code: PasskeyFailureCode, detail: string): Refusal => ({ code, detail });
  let clientData;
  let authData;
  try {
    clientData = decodeClientDataJSON(ceremony.response.response.clientDataJSON);
    const raw =
      ceremony.kind === 'authentication'
        ? isoBase64URL.toBuffer(ceremony.response.response.authenticatorData)
        : decodeAttestationObject(isoBase64URL.toBuffer(ceremony.response.response.attestationObject)).get('authData');
    authData = parseAuthenticatorData(raw);
  } catch (error) {
    return refuse('invalid_response', `undecodable response: ${(error as Error).message}`);
  }
  const type = ceremony.kind === 'authentication' ? 'webauthn.get' : 'webauthn.create';
  if (clientData.type !== type) return refuse('invalid_response', `client data type ${JSON.stringify(clientData.type)}, expected ${type}`);
  if (clientData.challenge !== expected.challenge) return refuse('challenge_mismatch', 'the response answers another challenge');
  if (clientData.origin !== expected.origin) return refuse('origin_mismatch', `origin ${JSON.stringify(clientData.origin)}, expected ${expected.origin}`);
  const rpIdHash = createHash('sha256').update(expected.rpId).digest();
  if (authData.rpIdHash.length !== rpIdHash.length || !timingSafeEqual(authData.rpIdHash, rpIdHash)) return refuse('rp_id_mismatch', `made for another RP ID than ${expected.rpId}`);
  if (expected.requireUserVerification && !authData.flags.uv) return refuse('user_verification_required', 'user verification required, but the user was not verified');
  const stored = expected.storedCounter;
  if (stored !== undefined && (authData.counter > 0 || stored > 0) && authData.counter <= stored) {
    return refuse('counter_regression', `counter value ${authData.counter} was lower than expected ${stored}`);
  }
  return undefined;
}
