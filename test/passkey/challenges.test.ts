// Challenges against a real database with an injected clock: single use, five-minute expiry,
// bound to their interaction; and the amr rule.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import {
  CHALLENGE_TTL_SECONDS,
  consumeChallenge,
  finishAuthentication,
  finishRegistration,
  insertCredential,
  issueChallenge,
  passkeyAmr,
  relyingPartyFor,
  startAuthentication,
  startRegistration,
} from '../../src/factors/passkey/index.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';
import { purgeExpiredSignInState } from '../../src/accounts/housekeeping.ts';

describe('passkey challenges', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  const T0 = new Date('2030-01-01T12:00:00Z');
  const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

  before(async () => {
    facet = await startTestFacet();
    demo = (await findTenant(facet.database.db, 'demo'))!;
  });
  after(async () => facet?.close());

  test('a challenge is 32 random bytes, single use, and replaced by the next one for the same binding', async () => {
    await withTenant(facet.database.db, demo, async (trx) => {
      const first = await issueChallenge(trx, { binding: 'interaction:a', purpose: 'authentication', now: T0 });
      assert.equal(Buffer.from(first.challenge, 'base64url').length, 32);
      const second = await issueChallenge(trx, { binding: 'interaction:a', purpose: 'authentication', now: T0 });
      assert.notEqual(first.challenge, second.challenge);
      const taken = await consumeChallenge(trx, { binding: 'interaction:a', purpose: 'authentication', now: at(1) });
      assert.ok(taken.ok && taken.stored.challenge === second.challenge);
      assert.deepEqual(await consumeChallenge(trx, { binding: 'interaction:a', purpose: 'authentication', now: at(2) }), { ok: false, code: 'challenge_missing' });
      assert.deepEqual(await consumeChallenge(trx, { binding: 'interaction:b', purpose: 'authentication', now: at(2) }), { ok: false, code: 'challenge_missing' });
    });
  });

  test('an assertion answering an expired challenge is refused (injected clock)', async () => {
    const rp = relyingPartyFor(facet.config.publicUrl, { name: 'Demo', settings: {} });
    const authenticator = new SoftAuthenticator();
    const outcome = await withTenant(facet.database.db, demo, async (trx) => {
      const user = await createUser(trx, { username: 'clock', email: 'clock@demo.example' });
      const creation = await startRegistration(trx, {
        rp,
        binding: 'interaction:clock',
        user: { id: user.id, handle: user.webauthn_user_handle, username: user.username, displayName: user.username },
        userVerification: 'required',
        now: T0,
      });
      assert.equal(creation.authenticatorSelection?.residentKey, 'required');
      const registered = await finishRegistration(trx, { rp, binding: 'interaction:clock', response: authenticator.create(creation, { origin: rp.origin }) as any, userVerification: 'required', now: at(10) });
      assert.ok(registered.ok);
      await insertCredential(trx, { ...registered.passkey, userId: user.id, name: 'test', userHandle: user.webauthn_user_handle });

      const options = await startAuthentication(trx, { rp, binding: 'interaction:clock', userVerification: 'required', now: at(20) });
      const response = authenticator.get(options, { origin: rp.origin }) as any;
      const late = await finishAuthentication(trx, { rp, binding: 'interaction:clock', response, userVerification: 'required', now: at(20 + CHALLENGE_TTL_SECONDS) });
      const options2 = await startAuthentication(trx, { rp, binding: 'interaction:clock', userVerification: 'required', now: at(400) });
      const inTime = await finishAuthentication(trx, { rp, binding: 'interaction:clock', response: authenticator.get(options2, { origin: rp.origin }) as any, userVerification: 'required', now: at(400 + CHALLENGE_TTL_SECONDS - 1) });
      return { late, inTime };
    });
    assert.equal(outcome.late.ok, false);
    assert.equal(!outcome.late.ok && outcome.late.code, 'challenge_expired');
    assert.equal(outcome.inTime.ok, true);
  });

  test('housekeeping removes expired challenges and keeps live ones', async () => {
    const purged = await withTenant(facet.database.db, demo, async (trx) => {
      await issueChallenge(trx, { binding: 'interaction:old', purpose: 'authentication', now: at(-1000) });
      await issueChallenge(trx, { binding: 'interaction:new', purpose: 'authentication', now: at(0) });
      const result = await purgeExpiredSignInState(trx, at(60));
      const left = await trx.selectFrom('webauthn_challenges').select('binding').where('binding', 'in', ['interaction:old', 'interaction:new']).execute();
      return { result, left: left.map((r) => r.binding) };
    });
    assert.ok(purged.result.challenges >= 1);
    assert.deepEqual(purged.left, ['interaction:new']);
  });

  test('amr: hwk for device-bound, swk for backup-eligible, user when verified', () => {
    assert.deepEqual(passkeyAmr({ backupEligible: false, userVerified: true }), ['hwk', 'user']);
    assert.deepEqual(passkeyAmr({ backupEligible: true, userVerified: true }), ['swk', 'user']);
    assert.deepEqual(passkeyAmr({ backupEligible: false, userVerified: false }), ['hwk']);
  });

  test('RP ID and origin: the public URL by default, the tenant domain when configured', () => {
    assert.deepEqual(relyingPartyFor('http://localhost:3000', { name: 'A', settings: {} }), { id: 'localhost', name: 'A', origin: 'http://localhost:3000' });
    assert.deepEqual(relyingPartyFor('https://id.example.com', { name: 'B', settings: { domain: 'login.b.example' } }), { id: 'login.b.example', name: 'B', origin: 'https://login.b.example' });
  });
});
