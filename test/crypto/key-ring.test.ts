import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFernet, generateFernetKey } from '../../src/crypto/fernet.ts';
import { assertRingDecrypts, createKeyRing, fernetKeyId, KeyRingError, parseKeyRing } from '../../src/crypto/key-ring.ts';

describe('key ring', () => {
  it('encrypts with the first key and decrypts with any', () => {
    const [oldKey, newKey] = [generateFernetKey(), generateFernetKey()];
    const oldToken = createFernet(oldKey).encrypt(Buffer.from('old'));
    const ring = createKeyRing([newKey, oldKey]);
    assert.equal(ring.decrypt(oldToken).toString(), 'old');
    assert.deepEqual(ring.open(oldToken).keyId, fernetKeyId(oldKey));
    const fresh = ring.encrypt(Buffer.from('new'));
    assert.equal(createFernet(newKey).decrypt(fresh).toString(), 'new');
    assert.throws(() => createFernet(oldKey).decrypt(fresh), { code: 'fernet_bad_mac' });
    assert.equal(ring.primaryKeyId, fernetKeyId(newKey));
    assert.deepEqual(ring.keyIds, [fernetKeyId(newKey), fernetKeyId(oldKey)]);
  });

  it('fails with the MAC error when no key fits', () => {
    const ring = createKeyRing([generateFernetKey()]);
    const stranger = createFernet(generateFernetKey()).encrypt(Buffer.from('x'));
    assert.throws(() => ring.decrypt(stranger), { code: 'fernet_bad_mac' });
  });

  it('parses FACET_EMBEDDING_KEYS and names bad entries by position only', () => {
    const [a, b] = [generateFernetKey(), generateFernetKey()];
    assert.equal(parseKeyRing(` ${a} , ${b},`).keyIds.length, 2);
    assert.throws(() => parseKeyRing(''), { code: 'key_ring_empty' });
    assert.throws(() => parseKeyRing(undefined), /FACET_EMBEDDING_KEYS is empty/);
    assert.throws(() => parseKeyRing(`${a},not-a-key`), (error: unknown) => {
      assert.ok(error instanceof KeyRingError);
      assert.equal(error.code, 'key_ring_invalid_key');
      assert.match(error.message, /key 2 of the ring/);
      assert.ok(!error.message.includes(a));
      return true;
    });
    assert.throws(() => parseKeyRing(`${a},${a}`), { code: 'key_ring_duplicate_key' });
  });

  it('assertRingDecrypts passes a complete ring and explains an incomplete one', () => {
    const [oldKey, newKey] = [generateFernetKey(), generateFernetKey()];
    const samples = [createFernet(oldKey).encrypt(Buffer.from('a')), createFernet(newKey).encrypt(Buffer.from('b'))];
    assert.doesNotThrow(() => assertRingDecrypts(createKeyRing([newKey, oldKey]), samples));
    assert.throws(() => assertRingDecrypts(createKeyRing([newKey]), samples), (error: unknown) => {
      assert.ok(error instanceof KeyRingError);
      assert.equal(error.code, 'key_ring_cannot_decrypt');
      assert.match(error.message, /cannot decrypt 1 of 2 sampled face templates/);
      return true;
    });
  });
});
