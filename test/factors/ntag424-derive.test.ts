import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveCardKeys, deriveTagKey, deriveUndiversifiedKey, generateSunUrl, NfcKeyError, parseSunUrl, verifySun } from '../../src/factors/nfc/index.ts';
import { readVectors } from './vectors-dir.ts';

interface KdfVectors {
  sdm_backend_kdf: { vectors: Array<Record<string, string>> };
}
const { sdm_backend_kdf } = readVectors<KdfVectors>('ntag424/vectors.json');

test('the kdf section has vectors with tag keys', () => {
  assert.equal(sdm_backend_kdf.vectors.length, 2);
});

for (const [index, vector] of sdm_backend_kdf.vectors.entries()) {
  test(`sdm-backend KDF vector ${index + 1}`, () => {
    assert.equal(deriveUndiversifiedKey(vector.master_key), vector.undiversified_key1.toUpperCase());
    const tagKeys = Object.entries(vector).filter(([name]) => name.startsWith('tag_key('));
    assert.equal(tagKeys.length, 2);
    for (const [name, expected] of tagKeys) {
      const match = /^tag_key\(uid=([0-9A-Fa-f]{14}),key_no=(\d+)\)$/.exec(name);
      assert.ok(match, name);
      assert.equal(deriveTagKey(vector.master_key, match[1], Number(match[2])), expected.toUpperCase(), name);
    }
  });
}

test('derived keys verify taps generated with them, and differ per card', () => {
  const masterKey = 'C9EB67DF090AFF47C3B19A2516680B9D';
  const a = deriveCardKeys({ masterKey, uid: '04A1B2C3D4E5F6' });
  const b = deriveCardKeys({ masterKey, uid: '04A1B2C3D4E5F7' });
  assert.equal(a.metaReadKey, b.metaReadKey, 'the meta read key is shared: the UID is not known before decrypting');
  assert.notEqual(a.fileReadKey, b.fileReadKey);
  const parsed = parseSunUrl(generateSunUrl({ uid: '04A1B2C3D4E5F6', counter: 12, ...a, baseUrl: 'https://id.example/nfc' }));
  assert.ok(parsed.ok);
  assert.deepEqual(verifySun({ ...parsed, ...a }), { ok: true, uid: '04A1B2C3D4E5F6', counter: 12 });
  assert.equal((verifySun({ ...parsed, ...b }) as { reason: string }).reason, 'bad_mac');
});

test('an all-zero or malformed master key is refused', () => {
  assert.throws(() => deriveUndiversifiedKey('00'.repeat(16)), NfcKeyError);
  assert.throws(() => deriveTagKey('00'.repeat(16), '04A1B2C3D4E5F6', 2), NfcKeyError);
  assert.throws(() => deriveTagKey('C9EB', '04A1B2C3D4E5F6', 2), NfcKeyError);
  assert.throws(() => deriveTagKey('C9EB67DF090AFF47C3B19A2516680B9D', '04A1', 2), RangeError);
  assert.throws(() => deriveTagKey('C9EB67DF090AFF47C3B19A2516680B9D', '04A1B2C3D4E5F6', 256), RangeError);
});
