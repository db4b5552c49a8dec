// AES-128-CMAC (RFC 4493). Node's crypto has AES but no CMAC; this is the textbook construction
// on top of the AES block cipher, checked against the four RFC 4493 examples in the tests.
import { aesCbcEncrypt, aesEcbEncrypt } from './aes.ts';

const BLOCK = 16;
const RB = 0x87;

// Doubling in GF(2^128): shift left by one bit, and fold the carry back in with Rb.
function double(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((block[i] << 1) | (i + 1 < BLOCK ? block[i + 1] >> 7 : 0)) & 0xff;
  if (block[0] & 0x80) out[BLOCK - 1] ^= RB;
  return out;
}

export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  if (key.length !== BLOCK) throw new RangeError('AES-CMAC here is AES-128: the key must be 16 bytes');
  const k1 = double(aesEcbEncrypt(key, Buffer.alloc(BLOCK)));
  const k2 = double(k1);
  const blocks = Math.max(1, Math.ceil(message.length / BLOCK));
  const complete = message.length > 0 && message.length % BLOCK === 0;
  const tailStart = (blocks - 1) * BLOCK;
  const last = Buffer.alloc(BLOCK);
  Buffer.from(message.subarray(tailStart)).copy(last);
  // A complete last block is masked with K1; a partial one is padded 10* and masked with K2.
  if (!complete) last[message.length - tailStart] = 0x80;
  const subkey = complete ? k1 : k2;
  for (let i = 0; i < BLOCK; i++) last[i] ^= subkey[i];
  // CBC-MAC over all blocks with a zero IV: the last ciphertext block is the tag.
  const out = aesCbcEncrypt(key, Buffer.concat([message.subarray(0, tailStart), last]));
  return out.subarray(out.length - BLOCK);
}
