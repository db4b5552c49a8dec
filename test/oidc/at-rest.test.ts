// What a copy of the database holds: nothing the browser or the relying party could use. A user
// signs up and in through the real pages (Chromium, virtual authenticator) against real
// PostgreSQL, an RP redeems the code and refreshes, the account page is signed in to, and a second
// authorization (prompt=login) is left pending at its page. The database is dumped with pg_dump at the
// consent page and at the end; no cookie value the browser ever received, no code, no token (nor
// their obvious encodings) may appear in either dump.
//
// The second half checks the adapter on its own for the payload kinds the browser run does not
// reach (device flow, PAR, logout state, dynamically registered clients): the stored JSON holds
// no raw secret, and find() gives oidc-provider back the plain values.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { freePort, projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { realPostgresUrl } from '../support/database.ts';
import { discover } from '../support/rp.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { bumpConfigVersion, findTenant } from '../../src/tenancy/registry.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import { createRecordIdCodec } from '../../src/oidc/record-ids.ts';
import { installAutofillSwitch, launchBrowser, pageWithAuthenticator, screenshot, setAutofill, type AuthenticatorPage } from '../browser/support.ts';

const run = promisify(execFile);
const skip = realPostgresUrl ? false : 'needs real PostgreSQL (DATABASE_URL)';

/** pg_dump of the whole test database: the control schema and every tenant schema, data included. */
async function dumpDatabase(url: string): Promise<string> {
  const pgDump = process.env.PG_DUMP ?? 'pg_dump';
  const { stdout } = await run(pgDump, ['--no-owner', '--no-privileges', `--dbname=${url}`], { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/**
 * A secret and the forms it could take in a dump: as sent, URL-decoded, each dot-separated part of
 * a signed/sealed value or JWT (but a JWT's header, which is shared by every token of a key), and
 * the bytes of a base64url value as bytea hex and as standard base64. Short pieces are skipped.
 */
function encodings(value: string): string[] {
  const forms = new Set<string>();
  const add = (v: string | undefined) => {
    if (v && v.length >= 16) forms.add(v);
  };
  const withDecoded = [value];
  try {
    withDecoded.push(decodeURIComponent(value));
  } catch {
    /* not URL-encoded */
  }
  for (const v of withDecoded) {
    add(v);
    const parts = v.split('.');
    parts.forEach((part, i) => {
      if (parts.length === 3 && i === 0 && part.startsWith('eyJ')) return;
      add(part);
    });
    for (const part of [v, ...parts]) {
      if (!/^[A-Za-z0-9_-]{16,}$/.test(part)) continue;
      const bytes = Buffer.from(part, 'base64url');
      if (bytes.length < 12) continue;
      add(bytes.toString('hex'));
      add(bytes.toString('base64').replace(/=+$/, ''));
    }
  }
  return [...forms];
}

/** Which of the named secrets (in any of their encodings) occur in the dump. */
function leaks(dump: string, secrets: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [label, value] of secrets) {
    for (const form of encodings(value)) {
      const at = dump.indexOf(form);
      if (at >= 0) {
        const line = dump.slice(dump.lastIndexOf('\n', at) + 1, dump.indexOf('\n', at)).slice(0, 300);
        found.push(`${label} (${form === value ? 'as is' : `as ${form.slice(0, 12)}…`}) in: ${line}`);
        break;
      }
    }
  }
  return found;
}

describe('secrets at rest: a pg_dump after a real browser sign-in holds no cookie, code or token', { skip }, () => {
  let facet: TestFacet;
  let browser: Browser;
  let tab: AuthenticatorPage;
  let issuer: string;
  let rp: client.Configuration;
  let rpServer: Server;
  let CALLBACK: string;
  /** label → value: every cookie value the browser was ever sent, the codes, the tokens. */
  const secrets = new Map<string, string>();
  let cookieSeq = 0;

  function remember(label: string, value: string | undefined) {
    if (value) secrets.set(label, value);
  }

  async function rememberCookies() {
    for (const cookie of await tab.context.cookies()) remember(`cookie ${cookie.name} (jar)`, cookie.value);
  }

  before(async () => {
    facet = await startTestFacet({ database: 'postgres' });
    const rpPort = await freePort();
    CALLBACK = `http://localhost:${rpPort}/callback`;
    rpServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>back at the relying party</p>'));
    await new Promise<void>((resolve) => rpServer.listen(rpPort, '127.0.0.1', resolve));
    // The third-party client (consent page: an interaction that already has a session), allowed
    // refresh tokens.
    const file = await readTenantFile(path.join(projectRoot, 'test/browser/fixtures/demo-with-partner.yaml'));
    const partner = file.clients.find((c) => c.client_id === 'partner-app')!;
    partner.redirect_uris = [CALLBACK];
    partner.grant_types = ['authorization_code', 'refresh_token'];
    (partner as { scope?: string }).scope = 'openid profile email offline_access';
    await applyTenantFile(facet.database.db, file, { kek: facet.config.kek, production: false });
    await bumpConfigVersion(facet.database.db, 'demo');
    issuer = `${facet.baseUrl}/t/demo`;
    rp = await discover(issuer, 'partner-app', 'partner-app-dev-secret');
    browser = await launchBrowser();
    tab = await pageWithAuthenticator(browser);
    await installAutofillSwitch(tab.context);
    tab.page.setDefaultTimeout(15_000);
    // Every Set-Cookie the browser receives, including cookies that are cleared again later.
    tab.context.on('response', async (response) => {
      const headers = await response.headersArray().catch(() => []);
      for (const header of headers) {
        if (header.name.toLowerCase() !== 'set-cookie') continue;
        for (const line of header.value.split('\n')) {
          const [pair] = line.split(';');
          const eq = pair!.indexOf('=');
          if (eq > 0) remember(`cookie ${pair!.slice(0, eq).trim()} #${(cookieSeq += 1)}`, pair!.slice(eq + 1).trim());
        }
      }
    });
  });
  after(async () => {
    await browser?.close();
    await facet?.close();
    rpServer?.close();
  });

  async function startFlow(prompt = 'consent') {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email offline_access',
      prompt,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    return { url, verifier, state };
  }

  async function atConsent(page: Page) {
    await page
      .getByRole('heading', { name: /^Allow .* to access your account\?$/ })
      .waitFor()
      .catch(async (error) => {
        await screenshot(page, 'at-rest-no-consent');
        throw new Error(`no consent page at ${page.url()}: ${(await page.locator('main').textContent())?.trim()}`, { cause: error });
      });
  }

  async function assertDumpClean(moment: string) {
    await rememberCookies();
    const dump = await dumpDatabase(facet.testDb.url!);
    // The dump is the tenant's data: the search would see a stored secret.
    assert.ok(/^COPY tenant_demo\.oidc_records /m.test(dump), 'the dump holds the tenant schema');
    assert.ok(/^Session\t/m.test(dump), 'the dump holds the OIDC session record');
    assert.ok(dump.includes('ada@demo.example'), 'the dump holds the account');
    assert.ok([...secrets.keys()].some((label) => label.startsWith('cookie _session ')), 'the session cookie was seen');
    const found = leaks(dump, secrets);
    assert.deepEqual(found, [], `${moment}: secrets found in the pg_dump:\n${found.join('\n')}`);
  }

  test('sign up in the browser; at the consent page the dump holds no cookie value', async () => {
    const { page, context } = tab;
    await setAutofill(context, facet.baseUrl, false);
    const flow = await startFlow();
    await page.goto(flow.url.href);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Email').fill('ada@demo.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.locator('#recovery-codes code').allTextContents();
    assert.equal(codes.length, 10);
    codes.forEach((code, i) => remember(`recovery code ${i + 1}`, code));
    await page.getByRole('button', { name: 'I have saved my codes' }).click();
    // Signed in; the consent prompt is an interaction that carries the new session.
    await atConsent(page);
    await assertDumpClean('at the consent page');

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(CALLBACK));
    const callback = new URL(page.url());
    remember('authorization code', callback.searchParams.get('code') ?? undefined);
    const tokens = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
    remember('access token', tokens.access_token);
    remember('refresh token', tokens.refresh_token);
    remember('id token', tokens.id_token);
    assert.ok(tokens.refresh_token, 'a refresh token was issued');
    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    assert.equal(userinfo.preferred_username, 'ada');

    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    remember('access token (refreshed)', refreshed.access_token);
    remember('refresh token (refreshed)', refreshed.refresh_token);
    remember('id token (refreshed)', refreshed.id_token);
  });

  test('after code exchange, refresh, the account page and a pending sign-in, the dump holds none of them', async () => {
    const { page } = tab;
    // The account page's own session (its own cookies).
    await page.goto(`${issuer}/account`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    // A second authorization asking to sign in again, left at the page: its interaction holds
    // the live session.
    const flow = await startFlow('login');
    await page.goto(flow.url.href);
    await page.waitForURL(/\/t\/demo\/interaction\/[^/]+$/);
    await page.locator('main h1').waitFor();
    for (const label of ['authorization code', 'access token', 'refresh token', 'id token', 'refresh token (refreshed)', 'access token (refreshed)']) {
      assert.ok(secrets.has(label), `${label} is among the values searched for`);
    }
    assert.ok([...secrets.keys()].some((label) => label.startsWith('cookie facet_account ')), 'the account page cookie is among them');
    await assertDumpClean('at the end');
  });
});

describe('secrets at rest: the adapter seals every secret payload field and gives it back on find', { skip }, () => {
  let facet: TestFacet;

  before(async () => {
    facet = await startTestFacet({ database: 'postgres' });
  });
  after(async () => {
    await facet?.close();
  });

  const sessionCookie = 'Fz3m1C6oQ6y6V1c9tq0cX0d3sB7nW2kqL8h5pR4vJ1e';
  const cases: Array<{ kind: string; id: string; payload: Record<string, unknown>; secrets: string[] }> = [
    {
      kind: 'Interaction',
      id: 'interaction-uid-aaaaaaaaaaaaaaaa',
      payload: {
        returnTo: 'http://localhost/t/demo/auth/interaction-uid-aaaaaaaaaaaaaaaa',
        session: { accountId: 'acc-1', uid: 'session-uid-1', cookie: sessionCookie, acr: 'urn:facet:acr:passkey' },
        deviceCode: 'device-code-bbbbbbbbbbbbbbbbbbbb',
        parJti: 'par-jti-cccccccccccccccccccccccc',
        params: { client_id: 'demo-web', id_token_hint: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.hint-signature-dddddddddd', request_uri: 'urn:ietf:params:oauth:request_uri:par-jti-cccccccccccccccccccccccc' },
        kind: 'Interaction',
      },
      secrets: [sessionCookie, 'interaction-uid-aaaaaaaaaaaaaaaa', 'device-code-bbbbbbbbbbbbbbbbbbbb', 'par-jti-cccccccccccccccccccccccc', 'hint-signature-dddddddddd'],
    },
    {
      kind: 'Session',
      id: 'session-id-eeeeeeeeeeeeeeeeeeeeeeee',
      payload: { uid: 'session-uid-2', accountId: 'acc-1', state: { secret: 'logout-xsrf-ffffffffffffffff', clientId: 'demo-web' }, authorizations: { 'demo-web': { sid: 'sid-1', grantId: 'grant-1' } }, kind: 'Session' },
      secrets: ['session-id-eeeeeeeeeeeeeeeeeeeeeeee', 'logout-xsrf-ffffffffffffffff'],
    },
    {
      kind: 'DeviceCode',
      id: 'device-code-gggggggggggggggggggg',
      payload: { userCode: 'WDJB-MJHT', params: { client_id: 'demo-web', scope: 'openid', id_token_hint: 'eyJhbGciOiJFUzI1NiJ9.e30.device-hint-hhhhhhhhhhhh' }, clientId: 'demo-web', kind: 'DeviceCode' },
      secrets: ['device-code-gggggggggggggggggggg', 'WDJB-MJHT', 'device-hint-hhhhhhhhhhhh'],
    },
    {
      kind: 'PushedAuthorizationRequest',
      id: 'par-id-iiiiiiiiiiiiiiiiiiiiiiii',
      payload: { request: 'eyJhbGciOiJub25lIn0.eyJpZF90b2tlbl9oaW50IjoiLi4uIn0.', clientId: 'demo-web', kind: 'PushedAuthorizationRequest' },
      secrets: ['par-id-iiiiiiiiiiiiiiiiiiiiiiii', 'eyJpZF90b2tlbl9oaW50IjoiLi4uIn0'],
    },
    {
      kind: 'Client',
      id: 'dynamic-client-1',
      payload: { client_id: 'dynamic-client-1', client_secret: 'client-secret-jjjjjjjjjjjjjjjjjjjj', redirect_uris: ['https://rp.example/cb'] },
      secrets: ['client-secret-jjjjjjjjjjjjjjjjjjjj'],
    },
  ];

  test('stored JSON holds no raw secret; find and findByUid/findByUserCode return the plain payload', async () => {
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    const ids = createRecordIdCodec(facet.config.tokenHashKey);
    const Adapter = createAdapterClass({ db: facet.database.db, scope: demo, ids });
    for (const { kind, id, payload, secrets } of cases) {
      const adapter = new Adapter(kind);
      await adapter.upsert(id, structuredClone({ ...payload, jti: id }) as any, 300);
      const stored = await withTenant(facet.database.db, demo, (trx) =>
        trx.selectFrom('oidc_records').selectAll().where('kind', '=', kind).where('id_hash', '=', ids.hash(kind, id)).executeTakeFirstOrThrow(),
      );
      const row = JSON.stringify(stored);
      for (const secret of secrets) assert.ok(!row.includes(secret), `${kind}: ${secret} is stored in clear: ${row}`);

      const found = await adapter.find(id);
      const expected = { ...payload, jti: id };
      if (kind === 'DeviceCode') delete (expected as { userCode?: string }).userCode; // found by id: only its hash is kept
      assert.deepEqual(found, expected, `${kind}: find() returns the payload oidc-provider saved`);
    }
    const session = await new Adapter('Session').findByUid('session-uid-2');
    assert.equal(session?.jti, 'session-id-eeeeeeeeeeeeeeeeeeeeeeee');
    assert.deepEqual(session?.state, { secret: 'logout-xsrf-ffffffffffffffff', clientId: 'demo-web' });
    const device = await new Adapter('DeviceCode').findByUserCode('WDJB-MJHT');
    assert.equal(device?.jti, 'device-code-gggggggggggggggggggg');
    assert.equal((device?.params as { id_token_hint?: string } | undefined)?.id_token_hint, 'eyJhbGciOiJFUzI1NiJ9.e30.device-hint-hhhhhhhhhhhh');
  });

  test('a record written in clear before the sealing still reads, and is sealed when first read', async () => {
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    const ids = createRecordIdCodec(facet.config.tokenHashKey);
    const Adapter = createAdapterClass({ db: facet.database.db, scope: demo, ids });
    const secret = 'legacy-client-secret-kkkkkkkkkkkkkkkkkk';
    const idHash = ids.hash('Client', 'legacy-client');
    const stored = () =>
      withTenant(facet.database.db, demo, (trx) => trx.selectFrom('oidc_records').select('payload').where('kind', '=', 'Client').where('id_hash', '=', idHash).executeTakeFirstOrThrow());
    await withTenant(facet.database.db, demo, (trx) =>
      trx
        .insertInto('oidc_records')
        .values({ kind: 'Client', id_hash: idHash, payload: JSON.stringify({ client_id: 'legacy-client', client_secret: secret }), expires_at: null })
        .execute(),
    );
    assert.ok(JSON.stringify((await stored()).payload).includes(secret), 'the legacy row holds the secret in clear');
    const found = await new Adapter('Client').find('legacy-client');
    assert.equal(found?.client_secret, secret);
    assert.ok(!JSON.stringify((await stored()).payload).includes(secret), 'sealed once read');
    assert.equal((await new Adapter('Client').find('legacy-client'))?.client_secret, secret, 'and still reads');
  });

  test('a sealed field moved to another record does not open there', async () => {
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    const ids = createRecordIdCodec(facet.config.tokenHashKey);
    const Adapter = createAdapterClass({ db: facet.database.db, scope: demo, ids });
    const adapter = new Adapter('Interaction');
    const payload = (cookie: string) => ({ returnTo: 'x', session: { accountId: 'acc-1', cookie }, kind: 'Interaction' });
    await adapter.upsert('victim-interaction', payload(sessionCookie) as any, 300);
    await adapter.upsert('attacker-interaction', payload('attacker-session-id-0000000000') as any, 300);
    await withTenant(facet.database.db, demo, async (trx) => {
      const victim = await trx.selectFrom('oidc_records').select('payload').where('kind', '=', 'Interaction').where('id_hash', '=', ids.hash('Interaction', 'victim-interaction')).executeTakeFirstOrThrow();
      await trx
        .updateTable('oidc_records')
        .set({ payload: JSON.stringify(victim.payload) })
        .where('kind', '=', 'Interaction')
        .where('id_hash', '=', ids.hash('Interaction', 'attacker-interaction'))
        .execute();
    });
    assert.equal(await adapter.find('attacker-interaction'), undefined, 'the sealed fields are bound to their record');
    assert.equal((await adapter.find('victim-interaction'))?.session?.cookie, sessionCookie);
  });
});
