import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSync } from 'otplib';
import { createTotpStore, TotpStoreError } from '../../src/factors/totp/store.ts';
import { createStoreDb, testBox, type StoreDb } from './store-db.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const NOW = 1_700_000_000;
const STEP = Math.floor(NOW / 30);
const codeAt = (step: number) => generateSync({ secret: SECRET, epoch: step * 30 });

let env: StoreDb;
const store = createTotpStore(testBox);
before(async () => {
  env = await createStoreDb(['0300_totp.ts']);
});
after(async () => {
  await env?.close();
});

test('enrollment is pending until a first code confirms it', async () => {
  const userId = await env.addUser();
  assert.equal(await store.startEnrollment(env.db, { userId, secret: SECRET }), true);
  const raw = await env.db.selectFrom('totp_factors').select('secret_encrypted').where('user_id', '=', userId).executeTakeFirstOrThrow();
  assert.ok(!raw.secret_encrypted.includes(SECRET), 'the secret is stored encrypted');
  assert.deepEqual(await store.verifyCode(env.db, { userId, code: codeAt(STEP), now: NOW }), { ok: false, reason: 'not_enrolled' });
  assert.deepEqual(await store.verifyCode(env.db, { userId, code: codeAt(STEP), now: NOW, confirming: true }), { ok: true, step: STEP });
  const factor = await store.find(env.db, userId);
  assert.equal(factor?.confirmed, true);
  assert.equal(factor?.lastUsedStep, STEP);
  assert.equal(factor?.secret, SECRET);
  // The confirming code is spent; the next step's code works once.
  assert.deepEqual(await store.verifyCode(env.db, { userId, code: codeAt(STEP), now: NOW }), { ok: false, reason: 'code_reused' });
  assert.deepEqual(await store.verifyCode(env.db, { userId, code: codeAt(STEP + 1), now: NOW + 30 }), { ok: true, step: STEP + 1 });
  assert.deepEqual(await store.verifyCode(env.db, { userId, code: codeAt(STEP + 1), now: NOW + 30 }), { ok: false, reason: 'code_reused' });
  assert.deepEqual(await store.verifyCode(env.db, { userId, code: '000000', now: NOW + 60 }).then((r) => r.ok), false);
  // A confirmed authenticator is not silently replaced by a new enrollment.
  assert.equal(await store.startEnrollment(env.db, { userId, secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }), false);
  assert.equal((await store.find(env.db, userId))?.secret, SECRET);
  assert.equal(await store.remove(env.db, userId), true);
  assert.equal(await store.find(env.db, userId), undefined);
});

test('a pending enrollment may be restarted with a new secret', async () => {
  const userId = await env.addUser();
  assert.equal(await store.startEnrollment(env.db, { userId, secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }), true);
  assert.equal(await store.startEnrollment(env.db, { userId, secret: SECRET, digits: 8 }), true);
  const factor = await store.find(env.db, userId);
  assert.equal(factor?.secret, SECRET);
  assert.equal(factor?.digits, 8);
  assert.equal(factor?.confirmed, false);
});

test('two concurrent submissions of one code: exactly one succeeds', async () => {
  const userId = await env.addUser();
  await store.startEnrollment(env.db, { userId, secret: SECRET });
  assert.equal((await store.verifyCode(env.db, { userId, code: codeAt(STEP - 1), now: NOW, confirming: true })).ok, true);
  for (let round = 0; round < 5; round++) {
    const step = STEP + round * 3;
    const results = await Promise.all(
      Array.from({ length: 6 }, () => store.verifyCode(env.db, { userId, code: codeAt(step), now: step * 30 })),
    );
    assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
    assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'code_reused'));
  }
});

test('recordUse only ever moves the step forward', async () => {
  const userId = await env.addUser();
  await store.startEnrollment(env.db, { userId, secret: SECRET });
  assert.equal(await store.recordUse(env.db, { userId, step: 10 }), false, 'unconfirmed factors are not used');
  assert.equal(await store.recordUse(env.db, { userId, step: 10, confirm: true }), true);
  assert.equal(await store.recordUse(env.db, { userId, step: 10 }), false);
  assert.equal(await store.recordUse(env.db, { userId, step: 9 }), false);
  assert.equal(await store.recordUse(env.db, { userId, step: 11 }), true);
  assert.equal((await store.find(env.db, userId))?.lastUsedStep, 11);
});

test('a sealed secret moved to another user is refused', async () => {
  const alice = await env.addUser();
  const mallory = await env.addUser();
  await store.startEnrollment(env.db, { userId: alice, secret: SECRET });
  await store.startEnrollment(env.db, { userId: mallory, secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' });
  const { secret_encrypted } = await env.db.selectFrom('totp_factors').select('secret_encrypted').where('user_id', '=', alice).executeTakeFirstOrThrow();
  await env.db.updateTable('totp_factors').set({ secret_encrypted }).where('user_id', '=', mallory).execute();
  await assert.rejects(store.find(env.db, mallory), (error: unknown) => error instanceof TotpStoreError && error.code === 'totp_secret_mismatch');
  await env.db.updateTable('totp_factors').set({ secret_encrypted: 'garbage' }).where('user_id', '=', mallory).execute();
  await assert.rejects(store.find(env.db, mallory), { code: 'totp_secret_unreadable' });
});

test('user_id must reference an existing user', async () => {
  await assert.rejects(store.startEnrollment(env.db, { userId: '00000000-0000-4000-8000-000000000000', secret: SECRET }), /foreign key/);
});
