// The raw AES-128 modes SDM uses, without padding: every SUN field is whole 16-byte blocks.
import { createCipheriv, createDecipheriv } from 'node:crypto';

const ZERO_IV = Buffer.alloc(16);

function run(cipher: ReturnType<typeof createCipheriv> | ReturnType<typeof createDecipheriv>, data: Uint8Array): Buffer {
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

export const aesEcbEncrypt = (key: Uint8Array, data: Uint8Array): Buffer => run(createCipheriv('aes-128-ecb', key, null), data);

export const aesCbcEncrypt = (key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Buffer =>
  run(createCipheriv('aes-128-cbc', key, iv), data);

export const aesCbcDecrypt = (key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Buffer =>
  run(createDecipheriv('aes-128-cbc', key, iv), data);
