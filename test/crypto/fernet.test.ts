import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createFernet, FernetError, generateFernetKey, type FernetErrorCode } from '../../src/crypto/fernet.ts';
import { vectorsDir } from '../support/shared-data.ts';

const load = (name: string) => JSON.parse(readFileSync(path.join(vectorsDir, 'fernet', name), 'utf8')) as any[];

// The spec's invalid.json names each case in prose; this is the reason each one must fail with.
const EXPECTED: Record<string, FernetErrorCode> = {
  'incorrect mac': 'fernet_bad_mac',
  'too short': 'fernet_too_short',
  'invalid base64': 'fernet_invalid_base64',
  'payload size not multiple of block size': 'fernet_bad_block_size',
  'payload padding error': 'fernet_bad_padding',
  'far-future TS (unacceptable clock skew)': 'fernet_clock_skew',
  'expired TTL': 'fernet_expired',
  'incorrect IV (causes padding error)': 'fernet_bad_padding',
};

describe('Fernet against the spec vectors', () => {
  for (const vector of load('generate.json')) {
    it(`generates the spec token for "${vector.src}"`, () => {
      const fernet = createFernet(vector.secret);
      const token = fernet.encrypt(Buffer.from(vector.src), { now: Date.parse(vector.now), iv: Uint8Array.from(vector.iv) });
      assert.equal(token, vector.token);
    });
  }

  for (const vector of load('verify.json')) {
    it(`verifies the spec token with ttl ${vector.ttl_sec}s`, () => {
      const fernet = createFernet(vector.secret);
      const plaintext = fernet.decrypt(vector.token, { ttlSeconds: vector.ttl_sec, now: Date.parse(vector.now) });
      assert.equal(plaintext.toString(), vector.src);
    });
  }

  const invalid = load('invalid.json');
  it('knows every invalid case', () => {
    assert.equal(invalid.length, 8);
    for (const vector of invalid) assert.ok(EXPECTED[vector.desc], `no expected reason for "${vector.desc}"`);
  });
  for (const vector of invalid) {
    it(`rejects: ${vector.desc}`, () => {
      const fernet = createFernet(vector.secret);
      assert.throws(
        () => fernet.decrypt(vector.token, { ttlSeconds: vector.ttl_sec, now: Date.parse(vector.now) }),
        (error: unknown) => error instanceof FernetError && error.code === EXPECTED[vector.desc],
      );
    });
  }
});

describe('Fernet in use', () => {
  it('round-trips binary data with a fresh IV each time', () => {
    const fernet = createFernet(generateFernetKey());
    const data = new Uint8Array(512).map((_, i) => (i * 7) & 0xff);
    const a = fernet.encrypt(data);
    const b = fernet.encrypt(data);
    assert.notEqual(a, b);
    assert.deepEqual(new Uint8Array(fernet.decrypt(a)), data);
  });

  it('uses the injected clock for stamping and TTL checks', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const fernet = createFernet(generateFernetKey(), { clock: () => now });
    const token = fernet.encrypt(Buffer.from('x'));
    assert.equal(fernet.timestamp(token), now / 1000);
    now += 30_000;
    assert.equal(fernet.decrypt(token, { ttlSeconds: 60 }).toString(), 'x');
    now += 60_000;
    assert.throws(() => fernet.decrypt(token, { ttlSeconds: 60 }), { code: 'fernet_expired' });
    // Without a TTL, age does not matter.
    assert.equal(fernet.decrypt(token).toString(), 'x');
  });

  it('refuses another key, bad keys and a wrong version byte', () => {
    const token = createFernet(generateFernetKey()).encrypt(Buffer.from('secret'));
    assert.throws(() => createFernet(generateFernetKey()).decrypt(token), { code: 'fernet_bad_mac' });
    assert.throws(() => createFernet('c2hvcnQ'), { code: 'fernet_invalid_key' });
    assert.throws(() => createFernet('!'.repeat(44)), { code: 'fernet_invalid_key' });
    const bytes = Buffer.from(token, 'base64url');
    bytes[0] = 0x81;
    assert.throws(() => createFernet(generateFernetKey()).decrypt(bytes.toString('base64url')), { code: 'fernet_bad_version' });
  });

  it('never puts the key or plaintext into an error message', () => {
    const key = generateFernetKey();
    try {
      createFernet(key).decrypt('gAAAA' + 'A'.repeat(100));
      assert.fail('should have thrown');
    } catch (error) {
      assert.ok(error instanceof FernetError);
      assert.ok(!error.message.includes(key));
    }
  });
});
