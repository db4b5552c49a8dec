// End to end in Chromium with a virtual authenticator: an openid-client relying party starts a
// code + PKCE flow at tenant demo; the user signs up with a passkey, saves recovery codes, consents;
// the RP gets an ID token with the right sub/amr/acr and calls userinfo. Then sign-out and
// sign-in again with the usernameless button, the username-first path and autofill.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import { freePort, startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findLiveUserByUsername } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { bumpConfigVersion, findTenant } from '../../src/tenancy/registry.ts';
import { installAutofillSwitch, launchBrowser, pageWithAuthenticator, screenshot, setAutofill, type AuthenticatorPage } from './support.ts';


describe('passkey sign-in in Chromium', () => {
  let facet: TestFacet;
  let browser: Browser;
  let tab: AuthenticatorPage;
  let issuer: string;
  let rp: client.Configuration;
  let userId: string;
  let CALLBACK: string;
  let rpServer: Server;
  const cspViolations: string[] = [];

  before(async () => {
    facet = await startTestFacet();
    // The relying party's callback is a real (tiny) server on a free port, registered for the client.
    const rpPort = await freePort();
    CALLBACK = `http://localhost:${rpPort}/callback`;
    rpServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>back at the relying party</p>'));
    await new Promise<void>((resolve) => rpServer.listen(rpPort, '127.0.0.1', resolve));
    const file = await readTenantFile(path.join(projectRoot, 'test/browser/fixtures/demo-with-partner.yaml'));
    file.clients.find((c) => c.client_id === 'partner-app')!.redirect_uris = [CALLBACK];
    await applyTenantFile(facet.database.db, file, { kek: facet.config.kek, production: false });
    await bumpConfigVersion(facet.database.db, 'demo');
    issuer = `${facet.baseUrl}/t/demo`;
    rp = await discover(issuer, 'partner-app', 'partner-app-dev-secret');
    browser = await launchBrowser();
    tab = await pageWithAuthenticator(browser);
    await installAutofillSwitch(tab.context);
    tab.page.setDefaultTimeout(10_000);
    tab.context.setDefaultTimeout(10_000);
    tab.page.on('console', (message) => {
      if (process.env.DEBUG_BROWSER) console.log('browser:', message.text());
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
    rpServer?.close();
  });

  async function startFlow({ acr = 'urn:facet:acr:passkey' }: { acr?: string } = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      // acr, amr and auth_time are always in the ID token.
      acr_values: acr,
    });
    return { url, verifier, state };
  }

  let consentShown = false;
  let recoveryCodes: string[] = [];

  /** Waits for the RP callback, allowing on the consent page if it shows; then redeems the code. */
  async function finishAtRp(page: Page, flow: { verifier: string; state: string }, { consentShot }: { consentShot?: string } = {}) {
    const consent = page.getByRole('heading', { name: /^Allow .* to access your account\?$/ });
    const atCallback = page.waitForURL((u) => u.href.startsWith(CALLBACK), { timeout: 15_000 });
    const atConsent = consent.waitFor({ timeout: 15_000 });
    await Promise.any([atCallback, atConsent]).catch(async (error) => {
      await screenshot(page, 'failed-finish');
      throw new Error(`stuck at ${page.url()}: ${(await page.locator('main').textContent())?.trim()}`, { cause: error });
    });
    atCallback.catch(() => {});
    atConsent.catch(() => {});
    consentShown = !page.url().startsWith(CALLBACK);
    if (consentShown) {
      if (consentShot) await screenshot(page, consentShot);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(CALLBACK), { timeout: 15_000 });
    }
    const callback = new URL(page.url());
    return client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  }

  async function signOut(page: Page) {
    await page.goto(`${issuer}/session/end`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  }

  function assertPasskeyTokens(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, startedAt: number) {
    const claims = tokens.claims()!;
    if (process.env.DEBUG_BROWSER) console.log(claims);
    assert.equal(claims.sub, userId);
    assert.equal(claims.acr, 'urn:facet:acr:passkey');
    assert.deepEqual(claims.amr, ['hwk', 'user'], 'virtual authenticator: device-bound, user verified');
    assert.ok(typeof claims.auth_time === 'number' && claims.auth_time >= startedAt - 1 && claims.auth_time <= Date.now() / 1000 + 1, 'auth_time is this sign-in');
  }

  test('sign up with a passkey, save recovery codes, consent; the RP gets sub, amr, acr and userinfo', async () => {
    const { page } = tab;
    const startedAt = Math.floor(Date.now() / 1000);
    const flow = await startFlow();
    const signInResponse = await page.goto(flow.url.href);
    const csp = signInResponse!.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'self'/);
    await page.getByRole('heading', { name: 'Sign in to Demo Organisation' }).waitFor();
    assert.equal(await page.locator('#username').getAttribute('autocomplete'), 'username webauthn');
    await screenshot(page, '01-sign-in');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Email').fill('ada@demo.example');
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await screenshot(page, '02-sign-up');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
    await screenshot(page, '03-create-passkey');
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.waitForURL(/recovery-codes/).catch(async () => assert.fail(`no recovery codes page: ${await page.locator('#status').textContent()}`));

    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.locator('#recovery-codes code').allTextContents();
    assert.equal(codes.length, 10);
    assert.ok(codes.every((c) => /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/.test(c)));
    recoveryCodes = codes;
    await screenshot(page, '04-recovery-codes');
    await page.getByRole('button', { name: 'I have saved my codes' }).click();

    const tokens = await finishAtRp(page, flow, { consentShot: '05-consent' });
    assert.equal(consentShown, true, 'a third-party client asks for consent');

    const demo = (await findTenant(facet.database.db, 'demo'))!;
    const user = await withTenant(facet.database.db, demo, (trx) => findLiveUserByUsername(trx, 'ada'));
    assert.ok(user);
    userId = user.id;
    assertPasskeyTokens(tokens, startedAt);
    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, userId);
    assert.equal(userinfo.sub, userId);
    assert.equal(userinfo.preferred_username, 'ada');
    assert.equal(userinfo.email, 'ada@demo.example');

    // Same session, second authorization: no sign-in and no consent page, the grant is remembered.
    // (Followed with the context's own HTTP client, which shares the browser's cookies.)
    const secondFlow = await startFlow();
    let next = secondFlow.url.href;
    for (let hop = 0; hop < 5 && !next.startsWith(CALLBACK); hop += 1) {
      const response = await tab.context.request.get(next, { maxRedirects: 0 });
      assert.ok(response.status() >= 300 && response.status() < 400, `hop ${hop}: ${response.status()} at ${next}`);
      next = new URL(response.headers().location!, next).href;
    }
    assert.ok(next.startsWith(CALLBACK), `went back to the RP without a page: ${next}`);
    const again = await client.authorizationCodeGrant(rp, new URL(next), { pkceCodeVerifier: secondFlow.verifier, expectedState: secondFlow.state });
    assert.equal(again.claims()!.sub, userId);

    const { credentials } = await tab.cdp.send('WebAuthn.getCredentials', { authenticatorId: tab.authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]!.isResidentCredential, true, 'a discoverable credential was created');
    assert.equal(Buffer.from(credentials[0]!.userHandle!, 'base64').toString('base64url'), user.webauthn_user_handle, 'user handle is the random per-user handle');
  });

  test('after signing out, the usernameless button signs in again, without asking for consent again', async () => {
    const { page, context } = tab;
    await signOut(page);
    await setAutofill(context, facet.baseUrl, false);
    const startedAt = Math.floor(Date.now() / 1000);
    const flow = await startFlow();
    await page.goto(flow.url.href);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const tokens = await finishAtRp(page, flow);
    assertPasskeyTokens(tokens, startedAt);
    assert.equal(consentShown, false, 'the consent given before is remembered across sessions');
  });

  test('the username-first path (allowCredentials) signs in', async () => {
    const { page, context } = tab;
    await signOut(page);
    await setAutofill(context, facet.baseUrl, false);
    const flow = await startFlow();
    await page.goto(flow.url.href);
    await page.getByLabel('Username').fill('ada');
    await page.getByRole('button', { name: 'Continue' }).click();
    const tokens = await finishAtRp(page, flow);
    assert.equal(tokens.claims()!.sub, userId);
  });

  test('passkey autofill (conditional mediation) signs in without a click', async () => {
    const { page, context } = tab;
    await signOut(page);
    await setAutofill(context, facet.baseUrl, true);
    const startedAt = Math.floor(Date.now() / 1000);
    const flow = await startFlow();
    await page.goto(flow.url.href);
    const tokens = await finishAtRp(page, flow);
    assertPasskeyTokens(tokens, startedAt);
  });

  test('a recovery code signs in through the OIDC flow, requires a new passkey and a sign-in with it before the RP gets its passkey acr; amr never says otp', async () => {
    const { page, context, cdp } = tab;
    await signOut(page);
    await setAutofill(context, facet.baseUrl, false);
    // The passkey is "lost": a fresh authenticator without it.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: tab.authenticatorId });
    tab.authenticatorId = (
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      })
    ).authenticatorId;
    const flow = await startFlow();
    await page.goto(flow.url.href);
    await page.getByRole('link', { name: 'Lost your passkey? Use a recovery code' }).click();
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await screenshot(page, '07-recovery-code');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Add a new passkey' }).waitFor();
    await screenshot(page, '08-add-passkey');
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    // The recovery code caps the session below a passkey: the RP asked for one, so sign in with the new one.
    await page.waitForURL((u) => u.pathname.endsWith('/stepup/passkey'), { timeout: 15_000 });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const tokens = await finishAtRp(page, flow);
    const claims = tokens.claims()!;
    assert.equal(claims.sub, userId);
    assert.equal(claims.acr, 'urn:facet:acr:passkey');
    assert.ok(!(claims.amr as string[]).includes('otp'), `a recovery code is not an app code: ${JSON.stringify(claims.amr)}`);
    assert.ok((claims.amr as string[]).includes('urn:facet:amr:recovery_code'), JSON.stringify(claims.amr));
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: tab.authenticatorId });
    assert.equal(credentials.length, 1, 'a new passkey was created');
  });

  test('a recovery code never answers a request for the authenticator app: without an app the RP gets unmet_authentication_requirements', async () => {
    const { page, cdp } = tab;
    await signOut(page);
    // Lost again: a fresh authenticator (the old one would refuse to make a second passkey for ada).
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: tab.authenticatorId });
    tab.authenticatorId = (
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      })
    ).authenticatorId;
    const flow = await startFlow({ acr: 'urn:facet:acr:passkey+otp' });
    await page.goto(flow.url.href);
    await page.getByRole('link', { name: 'Lost your passkey? Use a recovery code' }).click();
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Recovery code').fill(recoveryCodes[1]!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Add a new passkey' }).waitFor();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    // Issue 18: a page says what the app needs first; the RP hears it when the user clicks through.
    await page.getByRole('heading', { name: 'Partner App needs a sign-in your account cannot give yet' }).waitFor();
    await page.getByRole('button', { name: 'Back to Partner App' }).click();
    await page.waitForURL((u) => u.href.startsWith(CALLBACK), { timeout: 15_000 }).catch(async (error) => {
      await screenshot(page, 'failed-recovery-otp');
      throw new Error(`stuck at ${page.url()}: ${(await page.locator('main').textContent())?.trim()}`, { cause: error });
    });
    const callback = new URL(page.url());
    assert.equal(callback.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.equal(callback.searchParams.get('code'), null, 'no code, so no token with a lower acr');
  });

  test('the pages load their script under the CSP without violations', () => {
    assert.deepEqual(cspViolations, []);
  });
});
