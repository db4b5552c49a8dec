// The account page's own history (src/audit/account-activity.ts; issue 13 "users see their own
// history"): each recent sign-in and step-up with the application and the factor proved, and the
// security changes — the user's own (a session signed out, an application revoked) and what an
// administrator did (a factor disabled and unlocked, reset, the account locked and unlocked).
// Produced through the real flow over HTTP (software authenticator, RFC 6238 codes, the admin API).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { createUser } from '../../src/accounts/users.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { recentSecurityChanges, recentSignIns } from '../../src/audit/account-activity.ts';
import { codeAt } from '../support/totp-codes.ts';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { adminAuthorization } from '../support/admin-client.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';

const REDIRECT = 'http://localhost:3001/callback';
const OTP = 'urn:facet:acr:passkey+otp';

describe('account history through the real flow', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let rp: client.Configuration;
  const authenticator = new SoftAuthenticator();
  let agent: PasskeyAgent;
  let adaId: string;

  before(async () => {
    facet = await startTestFacet({ env: { FACET_RATE_LIMITS: JSON.stringify({ 'stepup.account': { points: 100 }, 'stepup.ip': { points: 100 }, 'signin.ip': { points: 100 } }) } });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const signedUp = await agent.signUp({ username: 'ada', email: 'ada@demo.example', displayName: 'Ada Lovelace' });
    assert.ok(signedUp.ok, signedUp.ok ? '' : signedUp.text);
    adaId = (await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('users').select('id').where('username', '=', 'ada').executeTakeFirstOrThrow())).id;
  });
  after(async () => facet?.close());

  const history = () => withTenant(facet.database.db, demo, async (trx) => ({ signIns: await recentSignIns(trx, adaId), changes: await recentSecurityChanges(trx, adaId) }));
  const submit = async (path: string, form: Record<string, string> = {}) => {
    const response = await agent.request(path, { form: { csrf: agent.csrf, ...form } });
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  };
  const admin = async (path: string, body: unknown) => {
    const response = await fetch(`${facet.baseUrl}/t/demo/admin/api/users/${adaId}/${path}`, {
      method: 'POST',
      headers: { authorization: await adminAuthorization(facet.baseUrl), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200, await response.text());
  };
  async function authorize(extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra });
    return { verifier, location: await agent.follow(url.href) };
  }
  async function tokensFrom(callback: URL, verifier: string) {
    assert.equal(callback.origin, 'http://localhost:3001', `expected the RP callback, got ${callback}`);
    return (await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier })).claims()!;
  }

  test('a sign-in and a step-up name the application and the factor; the page shows them in English and German', async () => {
    if (Math.floor(Date.now() / 1000) % 30 > 22) await new Promise((r) => setTimeout(r, (31 - (Math.floor(Date.now() / 1000) % 30)) * 1000));
    const step = Math.floor(Date.now() / 1000 / 30);
    await agent.page('/t/demo/account');
    assert.equal((await submit('/t/demo/account/totp/start')).status, 303);
    const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec((await agent.page('/t/demo/account/totp')).text)![1]!.replaceAll(' ', '');
    assert.equal((await submit('/t/demo/account/totp/confirm', { code: codeAt(secret, step - 1) })).status, 303);

    // Sign in to Demo web app with the passkey, then it asks for passkey+otp: a step-up with the code.
    const plain = await authorize();
    const options = await agent.json(`${plain.location.pathname}/passkey/options`, { csrf: agent.csrf });
    const verified = await agent.json(`${plain.location.pathname}/passkey/verify`, { csrf: agent.csrf, response: authenticator.get(options.data, { origin: facet.baseUrl }) });
    assert.equal(verified.status, 200, JSON.stringify(verified.data));
    await tokensFrom(await agent.follow(verified.data.redirect), plain.verifier);
    const stepUp = await authorize({ acr_values: OTP });
    const otpPath = `${stepUp.location.pathname}/stepup/otp`;
    await agent.page(otpPath);
    const ok = await submit(otpPath, { code: codeAt(secret, step) });
    assert.equal(ok.status, 303, ok.text);
    assert.equal((await tokensFrom(await agent.follow(ok.location!), stepUp.verifier)).acr, OTP);

    const { signIns } = await history();
    assert.deepEqual(
      signIns.slice(0, 2).map((s) => [s.type, s.factor, s.flow, s.clientId]),
      [
        ['factor.otp.verified', 'otp', 'step-up', 'demo-web'],
        ['passkey.sign_in', 'passkey', 'interaction', 'demo-web'],
      ],
    );
    assert.deepEqual(signIns[1]!.amr, ['hwk', 'user'], 'the amr recorded with the passkey');

    const page = (await agent.page('/t/demo/account')).text;
    assert.match(page, /<li[^>]* data-factor="otp"><strong>[^<]+<\/strong>.*?<span class="detail"><time[^>]*>[^<]+<\/time> · Step-up for Demo web app with an app code<\/span><\/li>/s);
    assert.match(page, /data-factor="passkey">.*?Sign-in to Demo web app with a passkey/s);
    assert.match((await agent.page('/t/demo/account?lang=de')).text, /Stärkere Anmeldung für Demo web app mit einem App-Code/);
    await agent.page('/t/demo/account?lang=en');
  });

  test('a session signed out, an application revoked, and what an administrator did are security changes', async () => {
    const account = (await agent.page('/t/demo/account')).text;
    const sessionUid = /action="\/t\/demo\/account\/sessions\/([^/"]+)\/sign-out"/.exec(account)![1]!;
    assert.equal((await submit(`/t/demo/account/apps/demo-web/revoke`)).status, 303);
    assert.equal((await submit(`/t/demo/account/sessions/${sessionUid}/sign-out`)).status, 303);
    await admin('lock', { factor: 'nfc' });
    await admin('unlock', { factor: 'nfc' });
    await admin('reset-factor', { factor: 'otp' });

    const page = (await agent.page('/t/demo/account')).text;
    assert.match(page, /data-type="factor.reset"><span>Sign-in method removed; set it up again <span class="detail">· Authenticator app, by an administrator<\/span>/);
    assert.match(page, /data-type="lockout.disabled"><span>Sign-in method blocked after wrong attempts <span class="detail">· NFC card, by an administrator<\/span>/);
    assert.match(page, /data-type="account.app_revoked"><span>An application’s access was revoked <span class="detail">· Demo web app<\/span>/);
    assert.match(page, /data-type="account.session_ended"><span>A session was signed out<br\/?>/);

    // Locking the whole account ends its sessions: the rest is read from the trail.
    await admin('lock', {});
    await admin('unlock-account', {});
    const { changes } = await history();
    assert.deepEqual(
      changes.slice(0, 7).map((c) => [c.type, c.factor, c.clientId, c.by]),
      [
        ['account.unlocked', null, null, 'administrator'],
        ['account.locked', null, null, 'administrator'],
        ['factor.reset', 'otp', null, 'administrator'],
        ['lockout.unlocked', 'nfc', null, 'administrator'],
        ['lockout.disabled', 'nfc', null, 'administrator'],
        ['account.session_ended', null, null, 'user'],
        ['account.app_revoked', null, 'demo-web', 'user'],
      ],
    );
  });
});

describe('account history queries', () => {
  let database: Database;
  let tenant: TenantRecord;
  before(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await migrateControl(database.db);
    tenant = await createTenant(database.db, { slug: 'activity' }, { kek: Buffer.alloc(32, 7).toString('base64url') });
  });
  after(() => database?.close());

  test("newest first, only the user's own, only those kinds; a lockout is the system's doing", async () => {
    await withTenant(database.db, tenant, async (trx) => {
      const me = await createUser(trx, { username: 'me' });
      const other = await createUser(trx, { username: 'other' });
      const facts = { ip: '203.0.113.5', userAgent: 'Firefox', requestId: null };
      await appendAudit(trx, { type: 'passkey.sign_in', actor: me.id, subject: me.id, ...facts, data: { credential_id: 'c', amr: ['hwk'], backup_state: false, flow: 'account' } });
      await appendAudit(trx, { type: 'passkey.registered', actor: me.id, subject: me.id, ...facts, data: { credential_id: 'c2', proof: { factor: 'passkey', at: new Date().toISOString() } } });
      await appendAudit(trx, { type: 'recovery_code.used', actor: me.id, subject: me.id, ...facts, data: { flow: 'interaction' } });
      await appendAudit(trx, { type: 'factor.otp.failed', subject: me.id, ...facts, data: { reason: 'invalid_code', flow: 'step-up' } });
      await appendAudit(trx, { type: 'lockout.locked', subject: me.id, ...facts, data: { factor: 'otp', failures: 5 } });
      await appendAudit(trx, { type: 'passkey.renamed', actor: me.id, subject: me.id, ...facts, data: { id: 'x', name: 'n' } });
      await appendAudit(trx, { type: 'passkey.sign_in', actor: other.id, subject: other.id, ...facts, data: { credential_id: 'o', amr: ['hwk'], flow: 'account' } });
      await appendAudit(trx, { type: 'factor.otp.removed', actor: other.id, subject: other.id, ...facts, data: {} });

      const signIns = await recentSignIns(trx, me.id);
      assert.deepEqual(
        signIns.map((s) => [s.type, s.factor, s.flow, s.clientId, s.amr, s.ip, s.userAgent]),
        [
          ['recovery_code.used', 'recovery_code', 'interaction', null, null, '203.0.113.5', 'Firefox'],
          ['passkey.sign_in', 'passkey', 'account', null, ['hwk'], '203.0.113.5', 'Firefox'],
        ],
      );
      assert.ok(signIns.every((s) => s.at instanceof Date));
      assert.equal((await recentSignIns(trx, me.id, { limit: 1 })).length, 1);
      assert.deepEqual(
        (await recentSecurityChanges(trx, me.id)).map((c) => [c.type, c.proof, c.factor, c.by]),
        [
          ['lockout.locked', null, 'otp', 'system'],
          ['passkey.registered', 'passkey', null, 'user'],
        ],
      );
      assert.deepEqual((await recentSecurityChanges(trx, other.id)).map((c) => [c.type, c.proof]), [['factor.otp.removed', null]]);
    });
  });
});
