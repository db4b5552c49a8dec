// The step-up journey over HTTP, with a software authenticator for the passkey: enrol an
// authenticator app and an NFC card on the account page, then an RP (openid-client) asks for
// urn:facet:acr:passkey+otp / +nfc and gets it after exactly the missing factor. Codes come from
// RFC 6238 via otplib, taps from generateSunUrl with known keys.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { codeAt } from '../support/totp-codes.ts';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { generateSunUrl } from '../../src/factors/nfc/index.ts';
import { adminAuthorization } from '../support/admin-client.ts';

const REDIRECT = 'http://localhost:3001/callback';
const OTP = 'urn:facet:acr:passkey+otp';
const NFC = 'urn:facet:acr:passkey+nfc';

const hexKey = () => randomBytes(16).toString('hex').toUpperCase();
const CARD = { uid: '04A1B2C3D4E580', metaReadKey: hexKey(), fileReadKey: hexKey() };
const OTHER_CARD = { uid: '04FFEEDDCCBB80', metaReadKey: hexKey(), fileReadKey: hexKey() };
const tap = (card: typeof CARD, counter: number) => generateSunUrl({ ...card, counter, baseUrl: 'https://cards.demo.example/tap' });


describe('step-up journey: authenticator app and NFC card', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let rp: client.Configuration;
  const authenticator = new SoftAuthenticator();
  let agent: PasskeyAgent;
  let recoveryCodes: string[] = [];

  before(async () => {
    // One user (and one address) makes more attempts a minute here than the default limits allow.
    facet = await startTestFacet({ env: { FACET_RATE_LIMITS: JSON.stringify({ 'stepup.account': { points: 100 }, 'stepup.ip': { points: 100 }, 'signin.ip': { points: 100 } }) } });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const signedUp = await agent.signUp({ username: 'ada', email: 'ada@demo.example', displayName: 'Ada Lovelace' });
    assert.ok(signedUp.ok, signedUp.ok ? '' : signedUp.text);
    recoveryCodes = signedUp.codes;
  });
  after(async () => facet?.close());

  const db = (fn: (trx: any) => Promise<any>): Promise<any> => withTenant(facet.database.db, demo, fn);
  const audit = (type: string): Promise<any[]> => db((trx) => trx.selectFrom('audit_events').selectAll().where('type', '=', type).orderBy('id').execute());

  /** Starts an authorization request and follows Facet's redirects to its first page. */
  async function authorize(who: PasskeyAgent, extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra });
    return { verifier, location: await follow(who, url.href) };
  }

  const follow = (who: PasskeyAgent, start: string): Promise<URL> => who.follow(start);

  /** The passkey step on an interaction's sign-in page; returns where the page script would go. */
  async function passkeyStep(who: PasskeyAgent, page: URL): Promise<string> {
    const options = await who.json(`${page.pathname}/passkey/options`, { csrf: who.csrf });
    const verified = await who.json(`${page.pathname}/passkey/verify`, { csrf: who.csrf, response: authenticator.get(options.data, { origin: facet.baseUrl }) });
    assert.equal(verified.status, 200, JSON.stringify(verified.data));
    return verified.data.redirect;
  }

  async function submit(who: PasskeyAgent, path: string, form: Record<string, string>) {
    const response = await who.request(path, { form: { csrf: who.csrf, ...form } });
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  }

  async function tokensFrom(callback: URL, verifier: string) {
    assert.equal(callback.origin, 'http://localhost:3001', `expected the RP callback, got ${callback}`);
    assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
    return (await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier })).claims()!;
  }

  test('TOTP: enrol on the account page, step up an existing session, refuse a reused and a wrong code, and step up a fresh sign-in', async () => {
    // Keep every code of this test inside one 30-second step's window.
    if (Math.floor(Date.now() / 1000) % 30 > 18) await new Promise((r) => setTimeout(r, (30 - (Math.floor(Date.now() / 1000) % 30) + 1) * 1000));
    const step = Math.floor(Date.now() / 1000 / 30);

    await agent.page('/t/demo/account');
    const started = await submit(agent, '/t/demo/account/totp/start', {});
    assert.equal(started.status, 303);
    assert.equal(started.location, '/t/demo/account/totp');
    const enrolPage = await agent.page('/t/demo/account/totp');
    assert.match(enrolPage.text, /<svg[^>]*>.*<path/s, 'the QR code is an inline SVG');
    const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(enrolPage.text)![1]!.replaceAll(' ', '');
    assert.ok(secret.length >= 32);

    const good = codeAt(secret, step - 1);
    const wrong = good.replace(/^./, (d) => String((Number(d) + 1) % 10));
    const refused = await submit(agent, '/t/demo/account/totp/confirm', { code: wrong });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /aria-invalid="true"/);
    assert.match(refused.text, /<p class="error" id="code-error">That code is not right/);
    const confirmed = await submit(agent, '/t/demo/account/totp/confirm', { code: `${good.slice(0, 3)} ${good.slice(3)}` });
    assert.equal(confirmed.status, 303);
    assert.match(confirmed.location!, /\?factor=otp-enrolled/);
    assert.equal((await audit('factor.otp.enrolled')).length, 1);
    assert.match((await agent.page('/t/demo/account')).text, /An authenticator app is set up/);

    // A plain sign-in first (no acr asked): exactly as before step-up existed.
    const plain = await authorize(agent);
    assert.match(plain.location.pathname, /^\/t\/demo\/interaction\/[^/]+$/);
    const plainClaims = await tokensFrom(await follow(agent, await passkeyStep(agent, plain.location)), plain.verifier);
    assert.deepEqual(plainClaims.amr, ['hwk', 'user']);

    // The same session asks for passkey+otp: a step-up page, then the code prompt.
    const stepUp = await authorize(agent, { acr_values: OTP });
    const intro = await agent.page(stepUp.location.pathname);
    assert.match(intro.text, /Demo web app asks for a stronger sign-in/);
    assert.match(intro.text, /It needs: Passkey and an authenticator-app code\./);
    const next = /id="step-up-continue" href="([^"]+)"/.exec(intro.text)![1]!;
    assert.equal(next, `${stepUp.location.pathname}/stepup/otp`);
    const otpPage = await agent.page(next);
    assert.match(otpPage.text, /autocomplete="one-time-code"/);

    const reused = await submit(agent, next, { code: good });
    assert.equal(reused.status, 400);
    assert.match(reused.text, /<p class="error" id="code-error">This code was already used/);
    const bad = await submit(agent, next, { code: wrong });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /That code is not right/);
    const ada = (await db((trx) => trx.selectFrom('users').select('id').where('username', '=', 'ada').executeTakeFirstOrThrow())).id;
    const lock = await db((trx) => trx.selectFrom('factor_lockouts').selectAll().where('user_id', '=', ada).where('factor', '=', 'otp').executeTakeFirstOrThrow());
    assert.equal(Number(lock.failures), 2, 'the reused and the wrong code both count towards lockout');
    assert.deepEqual((await audit('factor.otp.failed')).map((e) => e.data.reason), ['code_reused', 'invalid_code']);

    const ok = await submit(agent, next, { code: codeAt(secret, step) });
    assert.equal(ok.status, 303, ok.text);
    const claims = await tokensFrom(await follow(agent, ok.location!), stepUp.verifier);
    assert.equal(claims.acr, OTP);
    assert.ok((claims.amr as string[]).includes('otp') && (claims.amr as string[]).includes('mfa') && (claims.amr as string[]).includes('hwk'), JSON.stringify(claims.amr));
    assert.equal((await audit('factor.otp.verified')).length, 1);
    const after = await db((trx) => trx.selectFrom('factor_lockouts').selectAll().where('user_id', '=', ada).where('factor', '=', 'otp').executeTakeFirstOrThrow());
    assert.equal(Number(after.failures), 0, 'a success ends the run of failures');

    // The session now satisfies passkey+otp: no prompt at all.
    const again = await authorize(agent, { acr_values: OTP });
    assert.equal((await tokensFrom(again.location, again.verifier)).acr, OTP);

    // A fresh browser (no session): passkey, then the code, in one interaction.
    const fresh = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const start = await authorize(fresh, { acr_values: OTP });
    assert.match(start.location.pathname, /^\/t\/demo\/interaction\/[^/]+$/);
    const afterPasskey = await passkeyStep(fresh, start.location);
    assert.equal(afterPasskey, `${start.location.pathname}/stepup/otp`);
    await fresh.page(afterPasskey);
    const freshOk = await submit(fresh, afterPasskey, { code: codeAt(secret, step + 1) });
    assert.equal(freshOk.status, 303, freshOk.text);
    const freshClaims = await tokensFrom(await follow(fresh, freshOk.location!), start.verifier);
    assert.equal(freshClaims.acr, OTP);
    assert.ok((freshClaims.amr as string[]).includes('otp') && (freshClaims.amr as string[]).includes('mfa'));
  });

  test('NFC: enrol a card with its keys and a proving tap, refuse a replayed tap and another card, step up to passkey+nfc', async () => {
    await agent.page('/t/demo/account/nfc');
    // The account has an app now: a card is added only after a fresh proof of it (or a recovery code).
    const unproven = await submit(agent, '/t/demo/account/nfc', { ...CARD, name: 'Blue card', tap: tap(CARD, 1) });
    assert.equal(unproven.status, 303);
    assert.match(unproven.location!, /^\/t\/demo\/account\/verify\?next=/);
    const proofPage = await agent.page(unproven.location!);
    assert.match(proofPage.text, /id="proof-otp"/);
    assert.match(proofPage.text, /id="proof-recovery"/);
    assert.doesNotMatch(proofPage.text, /id="proof-passkey"/, 'a passkey alone does not prove the app');
    const recovered = await agent.recover({ username: 'ada', code: recoveryCodes[0]! });
    assert.ok(recovered.ok, recovered.ok ? '' : recovered.text);
    await agent.page('/t/demo/account/nfc');
    const wrongKeys = await submit(agent, '/t/demo/account/nfc', { name: 'Blue card', uid: CARD.uid, metaReadKey: CARD.metaReadKey, fileReadKey: OTHER_CARD.fileReadKey, tap: tap(CARD, 1) });
    assert.equal(wrongKeys.status, 400);
    assert.match(wrongKeys.text, /<p class="error" id="tap-error">This link was not made by your card, or it was changed\./);
    assert.ok(!wrongKeys.text.includes(CARD.metaReadKey), 'keys are not echoed back');
    const badUid = await submit(agent, '/t/demo/account/nfc', { name: 'Blue card', uid: 'xyz', metaReadKey: CARD.metaReadKey, fileReadKey: CARD.fileReadKey, tap: tap(CARD, 1) });
    assert.match(badUid.text, /<p class="error" id="uid-error">Enter 14 hexadecimal characters\./);
    const enrolled = await submit(agent, '/t/demo/account/nfc', { ...CARD, name: 'Blue card', uid: CARD.uid.toLowerCase(), tap: tap(CARD, 1) });
    assert.equal(enrolled.status, 303, enrolled.text);
    assert.match(enrolled.location!, /\?factor=nfc-enrolled/);
    assert.match((await agent.page('/t/demo/account')).text, /Blue card, UID 04A1B2C3D4E580/);
    assert.equal((await audit('factor.nfc.enrolled')).length, 1);

    const stepUp = await authorize(agent, { acr_values: NFC });
    const intro = await agent.page(stepUp.location.pathname);
    assert.match(intro.text, /It needs: Passkey and a tap of the NFC card\./);
    const next = `${stepUp.location.pathname}/stepup/nfc`;
    const nfcPage = await agent.page(next);
    assert.match(nfcPage.text, /\/assets\/build\/step-up-nfc\.js/);
    assert.doesNotMatch(nfcPage.text, /id="nfc-scan"/, 'the Web NFC button is made by the page script, only where the browser has NDEFReader');

    const replayed = await submit(agent, next, { tap: tap(CARD, 1) });
    assert.equal(replayed.status, 400);
    assert.match(replayed.text, /<p class="error" id="tap-error">This link was already used\. Tap the card again/);
    const other = await submit(agent, next, { tap: tap(OTHER_CARD, 7) });
    assert.equal(other.status, 400);
    assert.match(other.text, /<p class="error" id="tap-error">This link was not made by your card/);
    assert.deepEqual((await audit('factor.nfc.failed')).map((e) => e.data.reason), ['replayed', 'bad_picc_tag']);

    const ok = await submit(agent, next, { tap: ` ${tap(CARD, 2)} ` });
    assert.equal(ok.status, 303, ok.text);
    const claims = await tokensFrom(await follow(agent, ok.location!), stepUp.verifier);
    assert.equal(claims.acr, NFC);
    assert.ok((claims.amr as string[]).includes('sc') && (claims.amr as string[]).includes('mfa'), JSON.stringify(claims.amr));
    const card = await db((trx) => trx.selectFrom('nfc_cards').select('last_counter').where('uid', '=', CARD.uid).executeTakeFirstOrThrow());
    assert.equal(Number(card.last_counter), 2);

    // max_age=0: nothing done before counts, so the passkey again (the sign-in page), then the card.
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = await authorize(agent, { acr_values: NFC, max_age: '0' });
    const reIntro = await agent.page(fresh.location.pathname);
    assert.match(reIntro.text, /<li data-factor="passkey">your passkey<\/li><li data-factor="nfc">a tap of your NFC card<\/li>/);
    const passkeyPage = new URL(`${fresh.location.pathname}/stepup/passkey`, facet.baseUrl);
    await agent.page(passkeyPage.pathname);
    assert.equal(await passkeyStep(agent, fresh.location), next.replace(stepUp.location.pathname, fresh.location.pathname));
    await agent.page(`${fresh.location.pathname}/stepup/nfc`);
    const tapped = await submit(agent, `${fresh.location.pathname}/stepup/nfc`, { tap: tap(CARD, 3) });
    assert.equal(tapped.status, 303, tapped.text);
    const freshClaims = await tokensFrom(await follow(agent, tapped.location!), fresh.verifier);
    assert.equal(freshClaims.acr, NFC);
    assert.ok(Math.floor(Date.now() / 1000) - (freshClaims.auth_time as number) <= 2, 'auth_time is the new sign-in');
  });

  test('a step-up page without anyone signed in to the interaction is refused; removal works and is audited', async () => {
    const stranger = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const start = await authorize(stranger, { acr_values: OTP });
    const page = await stranger.request(`${start.location.pathname}/stepup/otp`);
    assert.equal(page.status, 400);
    assert.match(await page.text(), /sign in first/);

    const account = await agent.page('/t/demo/account');
    const cardId = /data-card-id="([^"]+)"/.exec(account.text)![1]!;
    assert.equal((await submit(agent, `/t/demo/account/nfc/${cardId}/remove`, {})).status, 303);
    assert.equal((await submit(agent, '/t/demo/account/totp/remove', {})).status, 303);
    assert.equal((await audit('factor.nfc.removed')).length, 1);
    assert.equal((await audit('factor.otp.removed')).length, 1);
    const text = (await agent.page('/t/demo/account')).text;
    assert.match(text, /No NFC card yet/);
    assert.match(text, /Set up an authenticator app/);

    // Without an app, a fresh sign-in asking for passkey+otp cannot be met: the RP hears so.
    const fresh = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const unmet = await authorize(fresh, { acr_values: OTP });
    // Issue 18: a page says what the app needs first; the RP hears it when the user clicks through.
    const requirements = await follow(fresh, await passkeyStep(fresh, unmet.location));
    assert.match(requirements.pathname, /\/interaction\/[^/]+\/requirements$/);
    assert.match((await fresh.page(requirements.pathname)).text, /needs a sign-in your account cannot give yet/);
    const callback = await follow(fresh, (await submit(fresh, requirements.pathname, {})).location!);
    assert.equal(callback.origin, 'http://localhost:3001');
    assert.equal(callback.searchParams.get('error'), 'unmet_authentication_requirements');
  });
  test('five wrong codes lock the app factor: the page says until when, and even the right code waits', async () => {
    const bobAuthenticator = new SoftAuthenticator();
    const bob = new PasskeyAgent(facet.baseUrl, 'demo', bobAuthenticator);
    assert.ok((await bob.signUp({ username: 'bob', email: 'bob@demo.example' })).ok);
    await bob.page('/t/demo/account');
    await submit(bob, '/t/demo/account/totp/start', {});
    const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec((await bob.page('/t/demo/account/totp')).text)![1]!.replaceAll(' ', '');
    const now = Math.floor(Date.now() / 1000 / 30);
    assert.equal((await submit(bob, '/t/demo/account/totp/confirm', { code: codeAt(secret, now - 1) })).status, 303);

    const start = await authorize(bob, { acr_values: OTP });
    const options = await bob.json(`${start.location.pathname}/passkey/options`, { csrf: bob.csrf });
    const verified = await bob.json(`${start.location.pathname}/passkey/verify`, { csrf: bob.csrf, response: bobAuthenticator.get(options.data, { origin: facet.baseUrl }) });
    const otpPage = verified.data.redirect as string;
    await bob.page(otpPage);
    const right = codeAt(secret, now + 1);
    const wrong = right.replace(/^./, (d) => String((Number(d) + 1) % 10));
    let last;
    for (let i = 0; i < 5; i += 1) last = await submit(bob, otpPage, { code: wrong });
    assert.equal(last!.status, 400);
    // Issue 18: one error (the lock, not also "that code is not right"), how long, and a <time> the page shows in local time.
    assert.match(last!.text, /<p id="status" class="status error" role="alert">Too many wrong attempts\. You can try again in \d+ min, after <time datetime="[^"]+" data-local="time">\d\d:\d\d UTC<\/time>\./);
    assert.doesNotMatch(last!.text, /id="code-error"/, 'no second, contradictory error on the field');
    const blocked = await submit(bob, otpPage, { code: right });
    assert.equal(blocked.status, 400);
    assert.match(blocked.text, /Too many wrong attempts/);
    const locked = await audit('lockout.locked');
    assert.equal(locked.at(-1)!.data.factor, 'otp');
    assert.equal((await audit('factor.otp.failed')).at(-1)!.data.reason, 'locked');

    // The admin API unlocks what the flow locked, under the same name: then the right code works.
    const bobId = (await db((trx) => trx.selectFrom('users').select('id').where('username', '=', 'bob').executeTakeFirstOrThrow())).id;
    const unlocked = await fetch(`${facet.baseUrl}/t/demo/admin/api/users/${bobId}/unlock`, {
      method: 'POST',
      headers: { authorization: await adminAuthorization(facet.baseUrl), 'content-type': 'application/json' },
      body: JSON.stringify({ factor: 'otp' }),
    });
    assert.equal(unlocked.status, 200);
    assert.deepEqual(await unlocked.json(), { unlocked: ['otp'] });
    const accepted = await submit(bob, otpPage, { code: right });
    assert.equal(accepted.status, 303, accepted.text);
    assert.equal((await tokensFrom(await follow(bob, accepted.location!), start.verifier)).acr, OTP);
  });
});
