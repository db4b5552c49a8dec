import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSunUrl } from '../../src/factors/nfc/index.ts';
import { createNfcCardStore, NfcStoreError } from '../../src/factors/nfc/store.ts';
import { createStoreDb, testBox, type StoreDb } from './store-db.ts';

const META = '42AFF114F2CB3B6141BE6DC95DFC5416';
const FILE = 'B62A9BAF092439BD43C62AEE96B970C5';
const UID = '04A1B2C3D4E5F6';
const BASE = 'https://id.example/t/acme/nfc';
const tap = (counter: number, { uid = UID, meta = META, file = FILE } = {}) =>
  generateSunUrl({ uid, counter, metaReadKey: meta, fileReadKey: file, baseUrl: BASE });

let env: StoreDb;
const store = createNfcCardStore(testBox);
before(async () => {
  env = await createStoreDb(['0310_nfc_cards.ts']);
});
after(async () => {
  await env?.close();
});

test('enroll a card, then each tap is accepted once and only with a rising counter', async () => {
  const userId = await env.addUser();
  const cardId = await store.addCard(env.db, { userId, uid: UID.toLowerCase(), metaReadKey: META, fileReadKey: FILE.toLowerCase(), name: 'Blue card', lastCounter: 3 });
  assert.ok(cardId);
  const raw = await env.db.selectFrom('nfc_cards').selectAll().where('id', '=', cardId).executeTakeFirstOrThrow();
  assert.equal(raw.uid, UID);
  assert.ok(!raw.keys_encrypted.includes(META) && !raw.keys_encrypted.includes(FILE), 'keys are stored encrypted');
  const [card] = await store.listCards(env.db, userId);
  assert.equal(card.fileReadKey, FILE);
  assert.equal(card.lastCounter, 3);

  // The enrollment tap (counter 3) cannot be replayed.
  assert.equal((await store.verifyTap(env.db, { userId, tap: tap(3) }) as { reason: string }).reason, 'replayed');
  const url = tap(4);
  assert.deepEqual(await store.verifyTap(env.db, { userId, tap: url }), { ok: true, uid: UID, counter: 4, cardId });
  assert.equal((await store.verifyTap(env.db, { userId, tap: url }) as { reason: string }).reason, 'replayed');
  assert.equal((await store.verifyTap(env.db, { userId, tap: tap(2) }) as { reason: string }).reason, 'replayed');
  assert.equal((await store.verifyTap(env.db, { userId, tap: tap(10) })).ok, true);
  assert.equal((await store.listCards(env.db, userId))[0].lastCounter, 10);
});

test('failures: not enrolled, malformed, foreign card, wrong keys', async () => {
  const userId = await env.addUser();
  assert.equal((await store.verifyTap(env.db, { userId, tap: tap(1) }) as { reason: string }).reason, 'not_enrolled');
  await store.addCard(env.db, { userId, uid: '04000000000002', metaReadKey: META, fileReadKey: FILE, name: 'Card' });
  assert.equal((await store.verifyTap(env.db, { userId, tap: 'https://id.example/nfc?picc_data=zz&cmac=00' }) as { reason: string }).reason, 'malformed');
  // Same batch keys, different card: verifies cryptographically but is not this user's card.
  assert.equal((await store.verifyTap(env.db, { userId, tap: tap(1, { uid: '04000000000003' }) }) as { reason: string }).reason, 'wrong_card');
  // A card with other keys: the MAC (or PICC tag) does not verify.
  const other = await store.verifyTap(env.db, { userId, tap: tap(1, { uid: '04000000000002', file: META }) });
  assert.equal(other.ok, false);
  assert.ok(!other.ok && ['bad_mac', 'bad_picc_tag'].includes(other.reason));
});

test('a user with two cards can use either; the counter is tracked per card', async () => {
  const userId = await env.addUser();
  const a = await store.addCard(env.db, { userId, uid: '04000000000010', metaReadKey: META, fileReadKey: FILE, name: 'A' });
  const b = await store.addCard(env.db, { userId, uid: '04000000000011', metaReadKey: FILE, fileReadKey: META, name: 'B' });
  assert.deepEqual(await store.verifyTap(env.db, { userId, tap: tap(5, { uid: '04000000000011', meta: FILE, file: META }) }), { ok: true, uid: '04000000000011', counter: 5, cardId: b });
  assert.deepEqual(await store.verifyTap(env.db, { userId, tap: tap(1, { uid: '04000000000010' }) }), { ok: true, uid: '04000000000010', counter: 1, cardId: a });
  assert.equal((await store.verifyTap(env.db, { userId, tap: tap(5, { uid: '04000000000011', meta: FILE, file: META }) }) as { reason: string }).reason, 'replayed');
  assert.equal(await store.removeCard(env.db, { userId: await env.addUser(), cardId: a! }), false, 'only the owner removes a card');
  assert.equal(await store.removeCard(env.db, { userId, cardId: a! }), true);
  assert.equal((await store.listCards(env.db, userId)).length, 1);
});

test('the same tap submitted concurrently is accepted exactly once', async () => {
  const userId = await env.addUser();
  await store.addCard(env.db, { userId, uid: '04000000000020', metaReadKey: META, fileReadKey: FILE, name: 'Race' });
  for (let counter = 1; counter <= 5; counter++) {
    const url = tap(counter, { uid: '04000000000020' });
    const results = await Promise.all(Array.from({ length: 6 }, () => store.verifyTap(env.db, { userId, tap: url })));
    assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
    assert.ok(results.every((r) => r.ok || r.reason === 'replayed'));
  }
});

test('a UID is enrolled once per tenant; sealed keys moved to another row are refused', async () => {
  const alice = await env.addUser();
  const mallory = await env.addUser();
  assert.ok(await store.addCard(env.db, { userId: alice, uid: '04000000000030', metaReadKey: META, fileReadKey: FILE, name: 'A' }));
  assert.equal(await store.addCard(env.db, { userId: mallory, uid: '04000000000030', metaReadKey: META, fileReadKey: FILE, name: 'M' }), undefined);
  assert.ok(await store.addCard(env.db, { userId: mallory, uid: '04000000000031', metaReadKey: FILE, fileReadKey: META, name: 'M' }));
  const { keys_encrypted } = await env.db.selectFrom('nfc_cards').select('keys_encrypted').where('uid', '=', '04000000000030').executeTakeFirstOrThrow();
  await env.db.updateTable('nfc_cards').set({ keys_encrypted }).where('uid', '=', '04000000000031').execute();
  await assert.rejects(store.listCards(env.db, mallory), (error: unknown) => error instanceof NfcStoreError && error.code === 'nfc_keys_mismatch');
  await assert.rejects(store.addCard(env.db, { userId: alice, uid: 'xyz', metaReadKey: META, fileReadKey: FILE, name: 'bad' }), RangeError);
  await assert.rejects(store.addCard(env.db, { userId: alice, uid: '04000000000032', metaReadKey: 'short', fileReadKey: FILE, name: 'bad' }), { code: 'nfc_bad_key' });
});
