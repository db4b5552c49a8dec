import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aesCmac } from '../../src/factors/nfc/aes-cmac.ts';

// RFC 4493 section 4, AES-128 examples 1-4 (public test vectors).
const KEY = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const M =
  '6bc1bee22e409f96e93d7e117393172a' +
  'ae2d8a571e03ac9c9eb76fac45af8e51' +
  '30c81c46a35ce411e5fbc1191a0a52ef' +
  'f69f2445df4f9b17ad2b417be66c3710';
const RFC4493 = [
  { length: 0, mac: 'bb1d6929e95937287fa37d129b756746' },
  { length: 16, mac: '070a16b46b4d4144f79bdd9dd04a287c' },
  { length: 40, mac: 'dfa66747de9ae63030ca32611497c827' },
  { length: 64, mac: '51f0bebf7e3b9d92fc49741779363cfe' },
];

for (const { length, mac } of RFC4493) {
  test(`RFC 4493 AES-128 CMAC, ${length}-byte message`, () => {
    assert.equal(aesCmac(KEY, Buffer.from(M, 'hex').subarray(0, length)).toString('hex'), mac);
  });
}

test('RFC 4493 subkeys: K1 and K2 paths differ (complete vs padded last block)', () => {
  const m = Buffer.from(M, 'hex');
  assert.notEqual(aesCmac(KEY, m.subarray(0, 16)).toString('hex'), aesCmac(KEY, Buffer.concat([m.subarray(0, 15)])).toString('hex'));
  assert.throws(() => aesCmac(Buffer.alloc(32), m), RangeError);
});
