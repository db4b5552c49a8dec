// The attack of issue "assurance you can prove" #3, over HTTP: someone holding only the victim's
// passkey (or an old account-page cookie) tries to remove the victim's authenticator app and enrol
// their own, add a card, a passkey or a face, or make new recovery codes. Every change needs a
// fresh proof of the strongest second factor the account has (here: the app), so each attempt is
// sent to /account/verify and nothing changes; the victim, with a current code, can.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { codeAt, previousStepCode } from '../support/totp-codes.ts';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { purgeExpiredSignInState } from '../../src/accounts/housekeeping.ts';


describe('factor changes need a fresh proof, not just the passkey', () => {
  let facet: TestFacet;
  let bank: TenantRecord;
  const victimKey = new SoftAuthenticator();
  let victim: PasskeyAgent;
  let secret: string;
  let victimId: string;

  before(async () => {
    facet = await startTestFacet({ tenantsDir: path.join(projectRoot, 'test/fixtures/tenants-assurance') });
    bank = (await findTenant(facet.database.db, 'bank'))!;
    victim = new PasskeyAgent(facet.baseUrl, 'bank', victimKey);
    assert.ok((await victim.signUp({ username: 'victim', email: 'victim@bank.example' })).ok);
    await victim.page('/t/bank/account');
    assert.equal((await submit(victim, '/t/bank/account/totp/start', {})).status, 303);
    secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec((await victim.page('/t/bank/account/totp')).text)![1]!.replaceAll(' ', '');
    assert.equal((await submit(victim, '/t/bank/account/totp/confirm', { code: await previousStepCode(secret) })).status, 303);
    victimId = (await db((trx) => trx.selectFrom('users').select('id').where('username', '=', 'victim').executeTakeFirstOrThrow())).id;
  });
  after(async () => facet?.close());

  const db = (fn: (trx: any) => Promise<any>): Promise<any> => withTenant(facet.database.db, bank, fn);
  const count = async (table: string) => Number((await db((trx) => trx.selectFrom(table).select((eb: any) => eb.fn.countAll().as('n')).where('user_id', '=', victimId).executeTakeFirstOrThrow())).n);

  async function submit(who: PasskeyAgent, where: string, form: Record<string, string>) {
    const response = await who.request(where, { form: { csrf: who.csrf, ...form } });
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  }

  test('with only the passkey, the app cannot be removed or replaced, nor anything else added', async () => {
    // The attacker signs in to the account page with the victim's passkey: a fresh passkey, no app code.
    const attacker = new PasskeyAgent(facet.baseUrl, 'bank', victimKey);
    const signedIn = await attacker.signIn();
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.data));
    await attacker.page('/t/bank/account');
    const changes = await db((trx) => trx.selectFrom('audit_events').select('id').where('subject', '=', victimId).where('type', 'in', ['factor.otp.removed', 'factor.otp.enrolled', 'factor.nfc.enrolled', 'passkey.registered', 'recovery_code.issued']).execute());

    for (const [where, form] of [
      ['/t/bank/account/totp/remove', {}],
      ['/t/bank/account/totp/remove', { code: '000000' }],
      ['/t/bank/account/totp/start', {}],
      ['/t/bank/account/nfc', { name: 'Mine', uid: '04A1B2C3D4E580', metaReadKey: '00'.repeat(16), fileReadKey: '00'.repeat(16), tap: 'https://x.example/?picc_data=00&cmac=00' }],
      ['/t/bank/account/recovery-codes', {}],
    ] as const) {
      const refused = await submit(attacker, where, form);
      assert.equal(refused.status, 303, `${where}: ${refused.text.slice(0, 200)}`);
      assert.match(refused.location!, /^\/t\/bank\/account\/verify\?/, `${where} asks for a fresh proof`);
    }
    const proofPage = await attacker.page('/t/bank/account/verify');
    assert.match(proofPage.text, /id="proof-otp"/);
    assert.doesNotMatch(proofPage.text, /id="proof-passkey"/, 'the passkey is not offered as proof once the account has an app');

    const passkeyOptions = await attacker.json('/t/bank/account/passkeys/options', { csrf: attacker.csrf });
    assert.equal(passkeyOptions.status, 403);
    assert.equal(passkeyOptions.data.code, 'fresh_proof_required');
    const face = await attacker.request('/t/bank/account/face/enrol', { json: { csrf: attacker.csrf, consent: true, frames: [] } });
    assert.ok([403, 400, 503].includes(face.status), `face enrolment refused (${face.status})`);
    if (face.status === 403) assert.equal(((await face.json()) as { code: string }).code, 'reauth_required');

    // Nothing changed: the app is still the victim's, no new codes, no card, no passkey.
    assert.equal(await count('totp_factors'), 1);
    assert.equal(Number((await db((trx) => trx.selectFrom('totp_factors').select('confirmed_at').where('user_id', '=', victimId).executeTakeFirstOrThrow())).confirmed_at !== null), 1);
    assert.equal(await count('nfc_cards'), 0);
    assert.equal(await count('webauthn_credentials'), 1);
    const after = await db((trx) => trx.selectFrom('audit_events').select('id').where('subject', '=', victimId).where('type', 'in', ['factor.otp.removed', 'factor.otp.enrolled', 'factor.nfc.enrolled', 'passkey.registered', 'recovery_code.issued']).execute());
    assert.equal(after.length, changes.length, 'no change was made');
  });

  test('the victim removes the app with a current code; the change names the proof', async () => {
    const removed = await submit(victim, '/t/bank/account/totp/remove', { code: codeAt(secret, Math.floor(Date.now() / 30_000) + 1) });
    assert.equal(removed.status, 303, removed.text);
    assert.match(removed.location!, /factor=otp-removed/);
    assert.equal(await count('totp_factors'), 0);
    const event = await db((trx) => trx.selectFrom('audit_events').select('data').where('subject', '=', victimId).where('type', '=', 'factor.otp.removed').executeTakeFirstOrThrow());
    assert.equal(event.data.proof.factor, 'otp');
  });

  test('a passkey-only account: an account-page session older than five minutes cannot add a passkey', async () => {
    // The victim now has no second factor: a passkey sign-in is the proof, but only a recent one.
    await db((trx) => trx.updateTable('session_factors').set({ at: new Date(Date.now() - 6 * 60_000) }).where('user_id', '=', victimId).execute());
    await victim.page('/t/bank/account');
    const stale = await victim.json('/t/bank/account/passkeys/options', { csrf: victim.csrf });
    assert.equal(stale.status, 403);
    assert.match(stale.data.redirect, /^\/t\/bank\/account\/verify\?/);
    const proof = await victim.page(stale.data.redirect);
    assert.match(proof.text, /id="proof-passkey"/);
    // Signing in again is the fresh proof.
    assert.equal((await victim.signIn()).status, 200);
    await victim.page('/t/bank/account');
    const fresh = await victim.json('/t/bank/account/passkeys/options', { csrf: victim.csrf });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.data));
  });

  test('housekeeping drops what gone sessions proved and keeps what live ones did', async () => {
    const live = await db((trx) => trx.selectFrom('session_factors').select('session_uid').where('user_id', '=', victimId).execute());
    assert.ok(live.length > 0, 'the sign-ins above recorded their factors');
    await db(async (trx) => {
      for (const uid of ['account:no-such-session', 'no-such-oidc-session']) {
        await trx.insertInto('session_factors').values({ session_uid: uid, user_id: victimId, factor: 'passkey', at: new Date(), amr: JSON.stringify(['hwk']) }).execute();
      }
    });
    const purged = await db((trx) => purgeExpiredSignInState(trx));
    assert.equal(purged.sessionFactors, 2);
    const left = await db((trx) => trx.selectFrom('session_factors').select('session_uid').where('user_id', '=', victimId).orderBy('session_uid').execute());
    assert.deepEqual(left.map((r: any) => r.session_uid).sort(), live.map((r: any) => r.session_uid).sort());
  });
});
