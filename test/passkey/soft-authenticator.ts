// A software WebAuthn authenticator (ES256, attestation "none") producing the same JSON the browser
// hands to @simplewebauthn/browser's callers. It lets protocol tests and the benchmark craft what a
// browser would never send: wrong origins, replays, cloned counters.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 256) return Buffer.from([(major << 5) | 24, value]);
  if (value < 65536) return Buffer.from([(major << 5) | 25, value >> 8, value & 255]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  publicJwk: { x: string; y: string };
  rpId: string;
  userHandle: string;
  counter: number;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  backupEligible: boolean;
  userVerified: boolean;
  /** With an AAGUID, registrations carry "packed" self attestation naming this model; else "none". */
  aaguid: string | undefined;

  constructor({ backupEligible = false, userVerified = true, aaguid }: { backupEligible?: boolean; userVerified?: boolean; aaguid?: string } = {}) {
    this.backupEligible = backupEligible;
    this.userVerified = userVerified;
    this.aaguid = aaguid;
  }

  #flags(attested: boolean): number {
    return 0x01 | (this.userVerified ? 0x04 : 0) | (this.backupEligible ? 0x08 : 0) | (attested ? 0x40 : 0);
  }

  /** navigator.credentials.create() for the given options JSON. */
  create(options: any, { origin }: { origin: string }) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    const credential: SoftCredential = { id: randomBytes(16), privateKey, publicJwk: jwk, rpId: options.rp.id, userHandle: options.user.id, counter: 0 };
    this.credentials.push(credential);
    const cose = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]));
    const counter = Buffer.alloc(4);
    const idLength = Buffer.from([0, credential.id.length]);
    const aaguid = this.aaguid ? Buffer.from(this.aaguid.replace(/-/g, ''), 'hex') : Buffer.alloc(16);
    const authData = Buffer.concat([sha256(credential.rpId), Buffer.from([this.#flags(true)]), counter, aaguid, idLength, credential.id, cose]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }));
    const attestationObject = this.aaguid
      ? cbor({ fmt: 'packed', attStmt: { alg: -7, sig: sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey) }, authData })
      : cbor({ fmt: 'none', attStmt: {}, authData });
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: clientDataJSON.toString('base64url'), attestationObject: attestationObject.toString('base64url'), transports: ['internal'] },
    };
  }

  /** navigator.credentials.get(): with allowCredentials, the first one we hold; else our first for the RP. */
  get(options: any, { origin, credential: chosen, counter }: { origin: string; credential?: SoftCredential; counter?: number }) {
    const allowed = (options.allowCredentials ?? []).map((c: { id: string }) => c.id);
    const credential =
      chosen ??
      this.credentials.find((c) => c.rpId === options.rpId && (allowed.length === 0 || allowed.includes(c.id.toString('base64url'))));
    if (!credential) throw new Error('NotAllowedError: no credential for this request');
    credential.counter = counter ?? credential.counter + 1;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(credential.counter);
    const authenticatorData = Buffer.concat([sha256(credential.rpId), Buffer.from([this.#flags(false)]), count]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), credential.privateKey);
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: credential.userHandle,
      },
    };
  }
}
