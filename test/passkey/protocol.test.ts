// Passkey protocol rules over HTTP, with a software authenticator standing in for the browser:
// cross-tenant credentials, origin, replay, cloned counters, user verification, recovery-code and
// invite reuse, deleted users, CSRF. Each failure must give a clear, asserted message.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findLiveUserByUsername } from '../../src/accounts/users.ts';
import { restoreAccount, softDeleteAccount } from '../../src/accounts/lifecycle.ts';
import { createInvite } from '../../src/accounts/invites.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import * as client from 'openid-client';
import { discover } from '../support/rp.ts';
import { projectRoot } from '../support/facet.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';
import { PasskeyAgent } from './agent.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const NOT_HERE = 'This passkey is not registered with Demo Organisation. It may belong to another organisation.';

describe('passkey protocol rules', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let club: TenantRecord;
  const authenticator = new SoftAuthenticator();
  let demoAgent: PasskeyAgent;
  let recoveryCodes: string[];

  before(async () => {
    facet = await startTestFacet();
    for (const file of ['other.yaml', 'club.yaml', 'strict.yaml']) {
      await applyTenantFile(facet.database.db, await readTenantFile(path.join(FIXTURES, file)), { kek: facet.config.kek, production: false });
    }
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/browser/fixtures/demo-with-partner.yaml')), { kek: facet.config.kek, production: false });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    club = (await findTenant(facet.database.db, 'club'))!;
    demoAgent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const signedUp = await demoAgent.signUp({ username: 'grace', email: 'grace@demo.example', displayName: 'Grace Hopper' });
    assert.ok(signedUp.ok, signedUp.ok ? '' : signedUp.text);
    recoveryCodes = signedUp.codes;
  });
  after(async () => facet?.close());

  // Audit rows with their JSON data as the tests read it.
  const audit = async (tenant: TenantRecord, type: string) =>
    (await withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('audit_events').selectAll().where('type', '=', type).orderBy('id').execute())) as Array<{ data: any; subject: string | null; type: string }>;

  test('sign-up stores a discoverable credential with its metadata, shows ten codes, and opens the account page', async () => {
    assert.equal(recoveryCodes.length, 10);
    const rows = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('webauthn_credentials').selectAll().execute());
    assert.equal(rows.length, 1);
    const user = (await withTenant(facet.database.db, demo, (trx) => findLiveUserByUsername(trx, 'grace')))!;
    assert.equal(rows[0].user_handle, user.webauthn_user_handle);
    assert.notEqual(rows[0].user_handle, 'grace');
    assert.equal(rows[0].backup_eligible, false);
    assert.equal(rows[0].attestation_format, 'none');
    const stored = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('recovery_codes').select('code_hash').execute());
    assert.equal(stored.length, 10);
    assert.ok(stored.every((r) => !recoveryCodes.some((c) => r.code_hash.includes(c))), 'codes are stored hashed');
    const account = await demoAgent.page('/t/demo/account');
    assert.equal(account.status, 200);
    assert.match(account.text, /Signed in as Grace Hopper/);
  });

  test('a good assertion signs in; the amr follows the authenticator (hwk, or swk when backup-eligible)', async () => {
    const result = await demoAgent.signIn();
    assert.equal(result.status, 200, JSON.stringify(result.data));
    assert.equal(result.data.redirect, '/t/demo/account');
    const events = await audit(demo, 'passkey.sign_in');
    assert.deepEqual(events.at(-1)!.data.amr, ['hwk', 'user']);

    const synced = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator({ backupEligible: true }));
    assert.ok((await synced.signUp({ username: 'linus', email: 'linus@demo.example' })).ok);
    assert.equal((await synced.signIn()).status, 200);
    assert.deepEqual((await audit(demo, 'passkey.sign_in')).at(-1)!.data.amr, ['swk', 'user']);
  });

  test('a passkey of another tenant gets the same clean refusal as one that exists nowhere', async () => {
    const otherAuthenticator = new SoftAuthenticator();
    const other = new PasskeyAgent(facet.baseUrl, 'other', otherAuthenticator);
    const signedUp = await other.signUp({ username: 'grace', email: 'grace@other.example' });
    assert.ok(signedUp.ok);
    // The browser offers it at demo too: same RP ID (one host).
    const atDemo = new PasskeyAgent(facet.baseUrl, 'demo', otherAuthenticator);
    const page = await other.page('/t/other/account/sign-in');
    assert.match(page.text, /<img src="https:\/\/other\.example\/logo\.png" alt(?:="")? class="logo"\/?><span>Other Organisation<\/span>/, 'tenant name and logo');
    const foreign = await atDemo.signIn();
    assert.equal(foreign.status, 400);
    assert.equal(foreign.data.code, 'unknown_credential');
    assert.equal(foreign.data.detail, NOT_HERE);
    const stranger = new SoftAuthenticator();
    stranger.create({ rp: { id: 'localhost' }, user: { id: 'AAAA' }, challenge: 'x' }, { origin: facet.baseUrl });
    const nowhere = await new PasskeyAgent(facet.baseUrl, 'demo', stranger).signIn();
    assert.equal(nowhere.status, 400);
    // Everything but the request's own correlation id is the same.
    const { request_id: nowhereId, ...nowhereProblem } = nowhere.data;
    const { request_id: foreignId, ...foreignProblem } = foreign.data;
    assert.notEqual(nowhereId, foreignId);
    assert.deepEqual(nowhereProblem, foreignProblem, 'no difference between "elsewhere" and "nowhere"');
  });

  test('an assertion made for another origin is refused', async () => {
    const result = await demoAgent.signIn({ origin: 'https://evil.example' });
    assert.equal(result.status, 400);
    assert.equal(result.data.code, 'origin_mismatch');
    assert.equal(result.data.detail, 'This passkey response came from another website and was refused.');
  });

  test('a replayed assertion is refused: the challenge was used, and a new challenge does not match it', async () => {
    const first = await demoAgent.signIn();
    assert.equal(first.status, 200);
    // Success ended that flow (its cookie is cleared); a replay comes in a flow of its own.
    const replay = await demoAgent.json(`${demoAgent.flowBase}/passkey/verify`, { csrf: demoAgent.csrf, response: first.response });
    assert.equal(replay.status, 403);
    await demoAgent.open();
    const again = await demoAgent.json(`${demoAgent.flowBase}/passkey/verify`, { csrf: demoAgent.csrf, response: first.response });
    assert.equal(again.status, 400);
    assert.equal(again.data.code, 'challenge_missing');
    assert.equal(again.data.detail, 'This sign-in attempt was already used or has timed out. Try again.');
    await demoAgent.json(`${demoAgent.flowBase}/passkey/options`, { csrf: demoAgent.csrf });
    const withNewChallenge = await demoAgent.json(`${demoAgent.flowBase}/passkey/verify`, { csrf: demoAgent.csrf, response: first.response });
    assert.equal(withNewChallenge.data.code, 'challenge_mismatch');
  });

  test('a counter going backwards (a cloned authenticator) is refused and audited', async () => {
    const ok = await demoAgent.signIn({ counter: 50 });
    assert.equal(ok.status, 200);
    const cloned = await demoAgent.signIn({ counter: 7 });
    assert.equal(cloned.status, 400);
    assert.equal(cloned.data.code, 'counter_regression');
    assert.match(cloned.data.detail, /looks like a copy/);
    const events = await audit(demo, 'passkey.counter_regression');
    assert.equal(events.length, 1);
    assert.match(events[0].data.detail, /counter value 7 was lower than expected 50/);
  });

  test('an assertion without user verification is refused when the tenant requires it', async () => {
    authenticator.userVerified = false;
    try {
      const result = await demoAgent.signIn({ counter: 60 });
      assert.equal(result.data.code, 'user_verification_required');
    } finally {
      authenticator.userVerified = true;
    }
  });

  test('a recovery code works once, then leads to creating a new passkey; reusing it fails', async () => {
    const agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    await agent.page(`${agent.flowBase}/recovery`);
    const used = await agent.request(`${agent.flowBase}/recovery`, { form: { csrf: agent.csrf, username: 'grace', code: recoveryCodes[0]!.toUpperCase() } });
    assert.equal(used.status, 303);
    assert.equal(used.headers.get('location'), `${agent.flowBase}/create-passkey`);
    const page = await agent.page(`${agent.flowBase}/create-passkey`);
    assert.match(page.text, /Add a new passkey/);
    const options = await agent.json(`${agent.flowBase}/register/options`, { csrf: agent.csrf });
    assert.equal(options.data.excludeCredentials.length, 1, 'the existing passkey is excluded');
    const response = authenticator.create(options.data, { origin: facet.baseUrl });
    const done = await agent.json(`${agent.flowBase}/register/verify`, { csrf: agent.csrf, response });
    assert.equal(done.status, 200, JSON.stringify(done.data));
    assert.equal(done.data.redirect, '/t/demo/account');

    const again = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    await again.page(`${again.flowBase}/recovery`);
    const reused = await again.request(`${again.flowBase}/recovery`, { form: { csrf: again.csrf, username: 'grace', code: recoveryCodes[0]! } });
    assert.equal(reused.status, 400);
    assert.match(await reused.text(), /That username and code do not match an unused recovery code\./);
    assert.equal((await audit(demo, 'recovery_code.failed')).length, 1);
  });

  test('an invitation is single-use and tied to its email', async () => {
    const invite = await withTenant(facet.database.db, club, (trx) => createInvite(trx, { slug: 'club', email: 'ann@club.example', key: facet.config.cookieKeys[0]! }));
    const noInvite = await new PasskeyAgent(facet.baseUrl, 'club', new SoftAuthenticator()).signUp({ username: 'nobody', email: 'nobody@club.example' });
    assert.ok(!noInvite.ok);
    assert.match(noInvite.text, /Sign-up here needs an invitation\./);
    const wrongEmail = await new PasskeyAgent(facet.baseUrl, 'club', new SoftAuthenticator()).signUp({ username: 'ann', email: 'other@club.example', invite: invite.token });
    assert.ok(!wrongEmail.ok);
    assert.match(wrongEmail.text, /Use the email address the invitation was sent to\./);
    const first = await new PasskeyAgent(facet.baseUrl, 'club', new SoftAuthenticator()).signUp({ username: 'ann', email: 'ann@club.example', invite: invite.token });
    assert.ok(first.ok, first.ok ? '' : first.text);
    const second = await new PasskeyAgent(facet.baseUrl, 'club', new SoftAuthenticator()).signUp({ username: 'ann2', email: 'ann@club.example', invite: invite.token });
    assert.ok(!second.ok);
    assert.match(second.text, /This invitation has already been used\./);
    const forged = await new PasskeyAgent(facet.baseUrl, 'club', new SoftAuthenticator()).signUp({ username: 'eve', email: 'ann@club.example', invite: `${invite.token.slice(0, -2)}xx` });
    assert.match(forged.ok ? '' : forged.text, /This invitation is not valid\./);
  });

  test('a deleted user cannot sign in and loses their sessions; restoring brings the account back, not the sessions', async () => {
    const agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const signedIn = await agent.signIn({ counter: 100 });
    assert.equal(signedIn.status, 200);
    assert.equal((await agent.page('/t/demo/account')).status, 200);
    const user = (await withTenant(facet.database.db, demo, (trx) => findLiveUserByUsername(trx, 'grace')))!;
    // An oidc-provider session and grant of the user, as the adapter stores them.
    await withTenant(facet.database.db, demo, async (trx) => {
      await trx.insertInto('oidc_records').values([
        { kind: 'Session', id_hash: 's1', payload: JSON.stringify({ accountId: user.id }) },
        { kind: 'Grant', id_hash: 'g1', payload: JSON.stringify({ accountId: user.id, clientId: 'demo-web' }) },
        { kind: 'RefreshToken', id_hash: 'r1', grant_id: 'grant-1', payload: JSON.stringify({ accountId: user.id, grantId: 'grant-1' }) },
        { kind: 'AccessToken', id_hash: 'a1', grant_id: 'grant-1', payload: JSON.stringify({ grantId: 'grant-1' }) },
      ]).execute();
      assert.equal(await softDeleteAccount(trx, user.id), true);
    });
    const left = await withTenant(facet.database.db, demo, (trx) =>
      trx.selectFrom('oidc_records').select('kind').where((eb) => eb.or([eb(sql`payload->>'accountId'`, '=', user.id), eb('grant_id', '=', 'grant-1')])).execute(),
    );
    assert.deepEqual(left, [], 'sessions, grants and their tokens are gone');
    const account = await agent.page('/t/demo/account');
    assert.equal(account.status, 303, 'the account-page session was revoked');
    const refused = await agent.signIn({ counter: 101 });
    assert.equal(refused.status, 400);
    assert.equal(refused.data.detail, NOT_HERE);

    await withTenant(facet.database.db, demo, (trx) => restoreAccount(trx, user.id));
    assert.equal((await agent.page('/t/demo/account')).status, 303, 'revoked sessions stay revoked');
    const back = await agent.signIn({ counter: 102 });
    assert.equal(back.status, 200);
  });

  test('a tenant requiring direct attestation accepts only allow-listed authenticator models', async () => {
    const unattested = await new PasskeyAgent(facet.baseUrl, 'strict', new SoftAuthenticator()).signUp({ username: 'ann', email: 'ann@strict.example' });
    assert.ok(!unattested.ok);
    assert.equal(JSON.parse(unattested.text).detail, 'This organisation does not accept this kind of authenticator.');
    const otherModel = await new PasskeyAgent(facet.baseUrl, 'strict', new SoftAuthenticator({ aaguid: '99999999-2222-3333-4444-555555555555' })).signUp({ username: 'ann', email: 'ann@strict.example' });
    assert.ok(!otherModel.ok);
    assert.equal(JSON.parse(otherModel.text).code, 'attestation_refused');
    const allowed = await new PasskeyAgent(facet.baseUrl, 'strict', new SoftAuthenticator({ aaguid: '11111111-2222-3333-4444-555555555555' })).signUp({ username: 'ann', email: 'ann@strict.example' });
    assert.ok(allowed.ok, allowed.ok ? '' : allowed.text);
    const strict = (await findTenant(facet.database.db, 'strict'))!;
    const row = await withTenant(facet.database.db, strict, (trx) => trx.selectFrom('webauthn_credentials').select(['aaguid', 'attestation_format']).executeTakeFirstOrThrow());
    assert.deepEqual(row, { aaguid: '11111111-2222-3333-4444-555555555555', attestation_format: 'packed' });
  });

  test('an unknown or expired interaction, and the username form without JavaScript, give clear pages', async () => {
    const gone = await fetch(new URL('/t/demo/interaction/not-a-real-uid', facet.baseUrl), { headers: { accept: 'text/html' } });
    assert.equal(gone.status, 400);
    assert.match(await gone.text(), /This sign-in request has expired\. Go back to the application and start again\./);
    const agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    await agent.open();
    const noScript = await agent.request(`${agent.flowBase}/identify`, { form: { csrf: agent.csrf, username: 'grace' } });
    assert.equal(noScript.status, 400);
    const page = await noScript.text();
    assert.match(page, /Passkeys need JavaScript in this browser/);
    assert.match(page, /value="grace"/, 'the username is kept');
  });

  test('over plain HTTP: an OIDC interaction signs in with a passkey; denying consent returns access_denied, allowing returns a code', async () => {
    const rp = await discover(`${facet.baseUrl}/t/demo`, 'partner-app', 'partner-app-dev-secret');
    const agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    const run = async (decision: 'allow' | 'deny') => {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: 'http://localhost:3001/callback',
        scope: 'openid email',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        acr_values: 'urn:facet:acr:passkey',
        claims: JSON.stringify({ id_token: { amr: null } }),
      });
      let location = (await agent.request(url.href)).headers.get('location')!;
      await agent.page(location);
      const base = new URL(location, facet.baseUrl).pathname;
      const options = await agent.json(`${base}/passkey/options`, { csrf: agent.csrf });
      const verified = await agent.json(`${base}/passkey/verify`, { csrf: agent.csrf, response: authenticator.get(options.data, { origin: facet.baseUrl, counter: 500 + (decision === 'allow' ? 1 : 0) }) });
      assert.equal(verified.status, 200, JSON.stringify(verified.data));
      location = (await agent.request(verified.data.redirect)).headers.get('location')!;
      const consent = await agent.page(location);
      assert.match(consent.text, /Allow Partner App to access your account\?/);
      assert.match(consent.text, /See your email address/);
      const consentBase = new URL(location, facet.baseUrl).pathname;
      const decided = await agent.request(`${consentBase}/consent`, { form: { csrf: agent.csrf, decision } });
      location = (await agent.request(decided.headers.get('location')!)).headers.get('location')!;
      return { callback: new URL(location), verifier, state };
    };
    const denied = await run('deny');
    assert.equal(denied.callback.searchParams.get('error'), 'access_denied');
    assert.equal((await audit(demo, 'consent.denied')).length, 1);
    const allowed = await run('allow');
    const tokens = await client.authorizationCodeGrant(rp, allowed.callback, { pkceCodeVerifier: allowed.verifier, expectedState: allowed.state });
    const claims = tokens.claims()!;
    assert.equal(claims.acr, 'urn:facet:acr:passkey');
    assert.deepEqual(claims.amr, ['hwk', 'user']);
  });

  test('lockout: a locked passkey factor refuses even a good assertion; five wrong recovery codes lock recovery', async () => {
    const user = (await withTenant(facet.database.db, demo, (trx) => findLiveUserByUsername(trx, 'grace')))!;
    const until = new Date(Date.now() + 10 * 60 * 1000);
    await withTenant(facet.database.db, demo, (trx) =>
      trx
        .insertInto('factor_lockouts')
        .values({ user_id: user.id, factor: 'passkey', failures: 25, locked_until: until, level: 1 })
        .onConflict((oc) => oc.columns(['user_id', 'factor']).doUpdateSet({ failures: 25, locked_until: until, level: 1 }))
        .execute(),
    );
    const locked = await demoAgent.signIn({ counter: 900 });
    assert.equal(locked.status, 400);
    assert.equal(locked.data.code, 'locked');
    assert.equal(locked.data.detail, `Too many failed attempts. Try again after ${until.toISOString().slice(11, 16)} UTC.`);
    await withTenant(facet.database.db, demo, (trx) => trx.deleteFrom('factor_lockouts').where('user_id', '=', user.id).execute());
    assert.equal((await demoAgent.signIn({ counter: 901 })).status, 200);
    const failures = await withTenant(facet.database.db, demo, (trx) =>
      trx.selectFrom('failed_attempts').select(['factor', 'reason']).where('factor', '=', 'passkey').execute(),
    );
    assert.ok(failures.some((f) => f.reason === 'counter_regression') && failures.some((f) => f.reason === 'unknown_credential'), 'passkey failures are recorded');

    const hedy = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
    const signedUp = await hedy.signUp({ username: 'hedy', email: 'hedy@demo.example' });
    assert.ok(signedUp.ok);
    await hedy.page(`${hedy.flowBase}/recovery`);
    for (let i = 0; i < 5; i += 1) {
      const wrong = await hedy.request(`${hedy.flowBase}/recovery`, { form: { csrf: hedy.csrf, username: 'hedy', code: 'aaaa-bbbb-cccc-dddd' } });
      assert.equal(wrong.status, 400);
    }
    const right = await hedy.request(`${hedy.flowBase}/recovery`, { form: { csrf: hedy.csrf, username: 'hedy', code: signedUp.codes[0]! } });
    assert.equal(right.status, 400);
    assert.match(await right.text(), /Too many failed attempts\. Try again after \d\d:\d\d UTC\./);
  });

  test('a POST without the CSRF token, or with another flow’s token, gets a clear 403 page', async () => {
    const agent = new PasskeyAgent(facet.baseUrl, 'demo', authenticator);
    await agent.open();
    const missing = await agent.request(`${agent.flowBase}/recovery`, { form: { username: 'grace', code: 'x' } });
    assert.equal(missing.status, 403);
    const page = await missing.text();
    assert.match(page, /<h1>This form has expired<\/h1>/);
    assert.match(page, /The form was not sent from this page/);
    const wrong = await agent.json(`${agent.flowBase}/passkey/options`, { csrf: demoAgent.csrf });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.data.code, 'csrf_failed');
    const noFlowCookie = await fetch(new URL(`${agent.flowBase}/passkey/options`, facet.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ csrf: agent.csrf }),
    });
    assert.equal(noFlowCookie.status, 403);
  });
});
