import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSync } from 'otplib';
import { createTotpEnrollment, TotpConfigError, verifyTotp, type TotpAlgorithm } from '../../src/factors/totp/index.ts';
import { readVectors } from './vectors-dir.ts';

interface Rfc6238 {
  params: { X_step_seconds: number; digits: number };
  seeds: Record<'SHA1' | 'SHA256' | 'SHA512', { ascii: string; hex: string; base32: string }>;
  vectors: Array<{ time: number; mode: 'SHA1' | 'SHA256' | 'SHA512'; totp: string; T_hex: string }>;
}
const rfc = readVectors<Rfc6238>('totp/rfc6238.json');
const SECRET = rfc.seeds.SHA1.base32;
const codeAt = (step: number) => generateSync({ secret: SECRET, epoch: step * 30 });

test('the vector file has the 18 RFC 6238 vectors and consistent seeds', () => {
  assert.equal(rfc.vectors.length, 18);
  for (const seed of Object.values(rfc.seeds)) assert.equal(Buffer.from(seed.hex, 'hex').toString('ascii'), seed.ascii);
});

for (const vector of rfc.vectors) {
  test(`RFC 6238 ${vector.mode} at t=${vector.time} gives ${vector.totp}`, () => {
    const algorithm = vector.mode.toLowerCase() as TotpAlgorithm;
    const secret = rfc.seeds[vector.mode].base32;
    const step = Number.parseInt(vector.T_hex, 16);
    assert.deepEqual(
      verifyTotp({ secret, code: vector.totp, now: vector.time, digits: 8, algorithm, window: 0 }),
      { ok: true, step },
    );
    // 6-digit apps show the last six digits of the same HOTP value.
    assert.deepEqual(
      verifyTotp({ secret, code: vector.totp.slice(-6), now: vector.time, algorithm, window: 0 }),
      { ok: true, step },
    );
    // Same code under another hash is wrong.
    const other: TotpAlgorithm = algorithm === 'sha1' ? 'sha256' : 'sha1';
    assert.deepEqual(
      verifyTotp({ secret: rfc.seeds.SHA1.base32, code: vector.totp, now: vector.time, digits: 8, algorithm: other, window: 0 }),
      { ok: false, reason: 'invalid_code' },
    );
  });
}

test('window: one step either side is accepted by default, two is not', () => {
  const now = 1_700_000_000; // step 56666666, 20 s into the step
  const step = Math.floor(now / 30);
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step), now }), { ok: true, step });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step - 1), now }), { ok: true, step: step - 1 });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step + 1), now }), { ok: true, step: step + 1 });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step - 2), now }), { ok: false, reason: 'invalid_code' });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step + 2), now }), { ok: false, reason: 'invalid_code' });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step - 1), now, window: 0 }), { ok: false, reason: 'invalid_code' });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step - 2), now, window: 2 }), { ok: true, step: step - 2 });
});

test('window edges follow step boundaries, not seconds', () => {
  const step = 56_666_666;
  const firstSecond = step * 30;
  const lastSecond = step * 30 + 29;
  // The previous step's code is still fine in the last second of the current step...
  assert.equal(verifyTotp({ secret: SECRET, code: codeAt(step - 1), now: lastSecond }).ok, true);
  // ...and the code two steps back is rejected even in the very first second.
  assert.equal(verifyTotp({ secret: SECRET, code: codeAt(step - 2), now: firstSecond }).ok, false);
  assert.equal(verifyTotp({ secret: SECRET, code: codeAt(step + 1), now: firstSecond }).ok, true);
  assert.equal(verifyTotp({ secret: SECRET, code: codeAt(step + 2), now: lastSecond }).ok, false);
});

test('each code is usable once: steps at or before lastUsedStep are refused as code_reused', () => {
  const now = 1_700_000_000;
  const step = Math.floor(now / 30);
  const first = verifyTotp({ secret: SECRET, code: codeAt(step), now });
  assert.deepEqual(first, { ok: true, step });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step), now, lastUsedStep: step }), { ok: false, reason: 'code_reused' });
  // An earlier code in the window is older than the one already used.
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step - 1), now, lastUsedStep: step }), { ok: false, reason: 'code_reused' });
  // The next step's code is still fresh.
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step + 1), now, lastUsedStep: step }), { ok: true, step: step + 1 });
  // A wrong code stays invalid_code, whatever was used before.
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(step - 5), now, lastUsedStep: step }), { ok: false, reason: 'invalid_code' });
  // lastUsedStep 0 is a real step, not "none".
  assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(0), now: 10, lastUsedStep: 0 }), { ok: false, reason: 'code_reused' });
});

test('malformed input is refused before any HMAC', () => {
  const now = 1_700_000_000;
  const good = codeAt(Math.floor(now / 30));
  for (const code of ['', '12345', '1234567', ` ${good.slice(1)}`, `${good.slice(0, 5)}a`, '１２３４５６', '12 456', '-12345', '+12345', '1.2345', '12345678']) {
    assert.deepEqual(verifyTotp({ secret: SECRET, code, now }), { ok: false, reason: 'malformed' }, `code ${JSON.stringify(code)}`);
  }
  assert.deepEqual(verifyTotp({ secret: SECRET, code: good, now, digits: 8 }), { ok: false, reason: 'malformed' });
  assert.deepEqual(verifyTotp({ secret: SECRET, code: undefined as unknown as string, now }), { ok: false, reason: 'malformed' });
});

test('a broken stored secret or bad parameters throw a typed error without the secret', () => {
  const now = 1_700_000_000;
  assert.throws(() => verifyTotp({ secret: 'not base32 !!', code: '123456', now }), (error: unknown) => {
    assert.ok(error instanceof TotpConfigError);
    assert.equal(error.code, 'totp_bad_secret');
    assert.ok(!error.message.includes('not base32'));
    return true;
  });
  // 10 bytes: below the 128-bit minimum.
  assert.throws(() => verifyTotp({ secret: 'JBSWY3DPEHPK3PXP', code: '123456', now }), { code: 'totp_bad_secret' });
  assert.throws(() => verifyTotp({ secret: SECRET, code: '123456', now, digits: 7 as 6 }), { code: 'totp_bad_digits' });
  assert.throws(() => verifyTotp({ secret: SECRET, code: '123456', now, window: -1 }), { code: 'totp_bad_window' });
  assert.throws(() => verifyTotp({ secret: SECRET, code: '123456', now: Number.NaN }), { code: 'totp_bad_time' });
  assert.throws(() => verifyTotp({ secret: SECRET, code: '123456', now, lastUsedStep: 1.5 }), { code: 'totp_bad_last_step' });
});

test('enrollment gives a fresh 160-bit secret, an otpauth URI and an inline SVG QR code', async () => {
  const a = await createTotpEnrollment({ issuer: 'Acme Corp', accountName: 'ada@example.com' });
  const b = await createTotpEnrollment({ issuer: 'Acme Corp', accountName: 'ada@example.com' });
  assert.match(a.secret, /^[A-Z2-7]{32}$/);
  assert.notEqual(a.secret, b.secret);
  const uri = new URL(a.otpauthUri);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), '/Acme Corp:ada@example.com');
  assert.equal(uri.searchParams.get('secret'), a.secret);
  assert.equal(uri.searchParams.get('issuer'), 'Acme Corp');
  assert.match(a.qrSvg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.doesNotMatch(a.qrSvg, /(src|href)=/, 'no external references');
  // The secret really works with the verifier.
  const now = 1_700_000_000;
  const code = generateSync({ secret: a.secret, epoch: now });
  assert.deepEqual(verifyTotp({ secret: a.secret, code, now }), { ok: true, step: Math.floor(now / 30) });
});

test('non-default parameters are written into the otpauth URI', async () => {
  const e = await createTotpEnrollment({ issuer: 'Acme', accountName: 'x:y', digits: 8, algorithm: 'sha256', period: 60 });
  const uri = new URL(e.otpauthUri);
  assert.equal(uri.searchParams.get('digits'), '8');
  assert.equal(uri.searchParams.get('algorithm'), 'SHA256');
  assert.equal(uri.searchParams.get('period'), '60');
  assert.ok(!decodeURIComponent(uri.pathname).includes('x:y'), 'colon in account name cannot split the label');
  await assert.rejects(createTotpEnrollment({ issuer: 'Acme', accountName: 'a', period: 1 }), { code: 'totp_bad_period' });
});
