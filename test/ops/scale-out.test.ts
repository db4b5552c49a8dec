// Issue 17, scale-out: three Facet processes on one PostgreSQL and one Redis, behind a real
// round-robin proxy (HAProxy from the distribution), behave as one IdP. An authorization code flow
// and a Chromium passkey sign-up and sign-in whose requests land on different nodes; 12 concurrent refreshes of one token spread over the
// nodes leave one family with exactly one live refresh token; a signing-key rotation, an account
// lock and a tenant-file apply made through one node are in effect on the others within 2 s; the
// sign-up rate limit is counted once for all nodes (Redis). The nodes'
// periodic tenant re-check is set to 10 minutes here, so only LISTEN/NOTIFY can explain that.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startFacetProcess, type FacetProcess } from '../support/facet-process.ts';
import { projectRoot } from '../support/facet.ts';
import { freePort } from '../support/ports.ts';
import { codeFlow } from '../support/code-flow.ts';
import { discover } from '../support/rp.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { REDIS_URL } from './helpers.ts';
import { installAutofillSwitch, launchBrowser, pageWithAuthenticator, setAutofill } from '../browser/support.ts';
import { adminAuthorization } from '../support/admin-client.ts';

const haproxy = spawnSync('haproxy', ['-v']).status === 0;

describe('three nodes behind HAProxy', { skip: !haproxy && 'haproxy is not installed', timeout: 300_000 }, () => {
  let testDb: TestDatabase;
  let db: Database;
  let nodes: FacetProcess[] = [];
  let proxy: ChildProcess | undefined;
  let proxyUrl = '';
  const workDir = mkdtempSync(path.join(tmpdir(), 'facet-scale-'));

  before(async () => {
    testDb = await createTestDatabase('postgres');
    const proxyPort = await freePort();
    proxyUrl = `http://localhost:${proxyPort}`;
    const env = {
      DATABASE_URL: testDb.url!,
      REDIS_URL,
      PUBLIC_URL: proxyUrl,
      FACET_TENANTS_DIR: path.join(projectRoot, 'tenants'),
      FACET_TENANT_RECHECK_MS: '600000',
      // As in startFacetProcess, but sign-ups stay limited (10 an hour per IP) to show the limit is global.
      FACET_RATE_LIMITS: JSON.stringify({ 'signin.ip': { points: 100000 }, 'token.ip': { points: 100000 }, 'token.account': { points: 100000 }, 'admin.ip': { points: 100000 }, 'admin.account': { points: 100000 }, 'signup.ip': { points: 10, duration: 3600 } }),
    };
    // The first node migrates and applies the tenant files; the others find them done.
    nodes.push(await startFacetProcess(env));
    nodes.push(...(await Promise.all([startFacetProcess(env), startFacetProcess(env)])));
    const config = path.join(workDir, 'haproxy.cfg');
    writeFileSync(
      config,
      [
        'global',
        '  maxconn 512',
        'defaults',
        '  mode http',
        '  option http-server-close',
        '  timeout connect 2s',
        '  timeout client 30s',
        '  timeout server 30s',
        'frontend facet',
        `  bind 127.0.0.1:${proxyPort}`,
        '  default_backend nodes',
        'backend nodes',
        '  balance roundrobin',
        '  http-response set-header X-Facet-Node %s',
        ...nodes.map((node, index) => `  server node${index + 1} 127.0.0.1:${node.port}`),
        '',
      ].join('\n'),
    );
    proxy = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let proxyOutput = '';
    proxy.stderr!.on('data', (chunk) => (proxyOutput += chunk));
    for (let i = 0; ; i += 1) {
      const ok = await fetch(`${proxyUrl}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 100) throw new Error(`haproxy did not start: ${proxyOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    db = await openDatabase({ kind: 'postgres', url: testDb.url! });
  });

  after(async () => {
    proxy?.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.kill('SIGTERM')));
    await db?.close();
    await testDb?.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  test('requests are spread over the three nodes', async () => {
    const served = new Set<string>();
    for (let i = 0; i < 6; i += 1) served.add((await fetch(`${proxyUrl}/health`)).headers.get('x-facet-node') ?? '');
    assert.deepEqual([...served].sort(), ['node1', 'node2', 'node3']);
  });

  test('a sign-in and concurrent refreshes spread over the nodes', async () => {
    const tenant = (await findTenant(db.db, 'demo'))!;
    const user = await withTenant(db.db, tenant, (trx) => createUser(trx, { username: 'scale-sam' }));
    const config = await discover(`${proxyUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    // Authorization request, interaction pages, consent, callback and code exchange: each request
    // goes to the next node in turn, so the flow only works if every node sees the others' state.
    const { tokens } = await codeFlow(config, { origin: proxyUrl, sub: user.id, redirectUri: 'http://localhost:3001/callback' });
    assert.ok(tokens.refresh_token);
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, user.id);
    assert.equal(userinfo.sub, user.id);

    const nodesSeen = new Set<string>();
    const results = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await fetch(`${proxyUrl}/t/demo/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from('demo-web:demo-web-dev-secret').toString('base64')}` },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
        });
        nodesSeen.add(response.headers.get('x-facet-node') ?? '');
        return { status: response.status, body: (await response.json()) as Record<string, string> };
      }),
    );
    assert.equal(nodesSeen.size, 3, 'the refreshes were answered by all three nodes');
    assert.ok(results.every((r) => r.status === 200 || r.status === 400), JSON.stringify(results.map((r) => r.status)));
    assert.ok(results.some((r) => r.status === 200));
    // The demo client has a 10 s grace window: retries inside it are not theft, and the family
    // ends up with exactly one live refresh token.
    const families = await withTenant(db.db, tenant, (trx) => trx.selectFrom('refresh_families').selectAll().execute());
    assert.equal(families.length, 1);
    assert.equal(families[0]!.ended_at, null);
    const live = await withTenant(db.db, tenant, (trx) =>
      trx.selectFrom('oidc_records').select('id_hash').where('kind', '=', 'RefreshToken').where('grant_id', '=', families[0]!.grant_id).where('consumed_at', 'is', null).execute(),
    );
    assert.equal(live.length, 1, 'exactly one live refresh token');
  });

  test('a passkey sign-up and sign-in in Chromium whose requests land on different nodes', async () => {
    // Under a full, parallel CI run Chromium itself has been seen to go away mid-run ("Target page,
    // context or browser has been closed", 2 in ~15 runs, never an assertion): that, and only that,
    // is tried once more with a fresh browser and fresh names.
    for (let attempt = 1; ; attempt += 1) {
      try {
        browserAttempts = attempt;
        await passkeyAcrossNodes(attempt);
        return;
      } catch (error) {
        if (attempt >= 2 || !/has been closed/.test(String((error as Error)?.message))) throw error;
        console.log(`browser went away (${(error as Error).message.split('\n')[0]}); trying once more`);
      }
    }
  });

  let browserAttempts = 0;

  async function passkeyAcrossNodes(attempt: number) {
    const browser = await launchBrowser();
    try {
      const { page, context } = await pageWithAuthenticator(browser);
      page.setDefaultTimeout(15_000);
      // Only the button answers (no passkey autofill request pending on the page).
      await installAutofillSwitch(context);
      await setAutofill(context, proxyUrl, false);
      const CALLBACK = 'http://localhost:3001/callback';
      const served: string[] = [];
      page.on('response', (response) => {
        if (response.url().startsWith(proxyUrl)) served.push(response.headers()['x-facet-node'] ?? '?');
      });
      const rp = await discover(`${proxyUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
      const signIn = async (steps: () => Promise<void>) => {
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const url = client.buildAuthorizationUrl(rp, { redirect_uri: CALLBACK, scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
        // Nothing listens at the callback: the request's URL is all the relying party needs.
        const callback = page.waitForRequest((request) => request.url().startsWith(CALLBACK), { timeout: 20_000 });
        callback.catch(() => {}); // awaited below; a failing step is the error to report
        // The failed navigation to the callback ends on Chromium's error page. It must have landed
        // before the next sign-in navigates: a late one interrupted that page.goto.
        const landed = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() && frame.url().startsWith('chrome-error:'), timeout: 20_000 });
        landed.catch(() => {});
        await page.goto(url.href);
        await steps();
        const redirected = new URL((await callback).url());
        await landed;
        return client.authorizationCodeGrant(rp, redirected, { pkceCodeVerifier: verifier, expectedState: state });
      };
      served.length = 0;
      const first = await signIn(async () => {
        await page.getByRole('link', { name: 'Create an account' }).click();
        await page.getByLabel('Username').fill(`scale-ada${attempt}`);
        await page.getByLabel('Email').fill(`scale-ada${attempt}@demo.example`);
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('button', { name: 'Create a passkey' }).click();
        await page.getByRole('button', { name: 'I have saved my codes' }).click();
      });
      const signUpNodes = new Set(served);
      assert.ok(signUpNodes.size >= 2, `sign-up requests were served by ${[...signUpNodes].join(', ')}`);
      const sub = first.claims()!.sub;
      assert.equal(first.claims()!.acr, 'urn:facet:acr:passkey');
      // A fresh browser session (cookies cleared, the passkey kept): sign in with the passkey button.
      await context.clearCookies();
      await setAutofill(context, proxyUrl, false);
      served.length = 0;
      const second = await signIn(async () => {
        await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      });
      const signInNodes = new Set(served);
      assert.ok(signInNodes.size >= 2, `sign-in requests were served by ${[...signInNodes].join(', ')}`);
      assert.equal(second.claims()!.sub, sub);
      assert.deepEqual(second.claims()!.amr, ['hwk', 'user']);
      console.log(`passkey sign-up served by ${[...signUpNodes].sort().join(', ')}; sign-in by ${[...signInNodes].sort().join(', ')}`);
    } finally {
      await browser.close();
    }
  }

  test('rate limits are global: 10 sign-ups an hour per IP across all three nodes, not 10 per node', async () => {
    // The passkey sign-up above spent one. Sign-up form posts, spread over the nodes by the proxy:
    // the limiter runs before the form is read, so empty posts count like real ones.
    const statuses: number[] = [];
    const nodesSeen = new Set<string>();
    for (let i = 0; i < 15; i += 1) {
      const response = await fetch(`${proxyUrl}/t/demo/account/sign-in/signup`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'username=x' });
      statuses.push(response.status);
      nodesSeen.add(response.headers.get('x-facet-node') ?? '');
      await response.arrayBuffer();
    }
    assert.equal(nodesSeen.size, 3);
    // Ten per address in all: what the browser test's sign-up(s) left (a retried browser run may
    // have spent a second one).
    const allowed = statuses.filter((status) => status !== 429).length;
    assert.ok(allowed === 9 || (browserAttempts === 2 && allowed === 8), `statuses ${statuses.join(' ')}`);
    assert.ok(statuses.slice(allowed).every((status) => status === 429), `statuses ${statuses.join(' ')}`);
  });

  /** Polls every node directly until `check` holds on each; the slowest node's delay in ms. */
  async function untilEveryNode(check: (node: FacetProcess) => Promise<boolean>, limitMs = 2000): Promise<number> {
    const started = Date.now();
    const pending = new Set(nodes);
    let slowest = 0;
    while (pending.size > 0) {
      for (const node of [...pending]) {
        if (await check(node)) {
          pending.delete(node);
          slowest = Date.now() - started;
        }
      }
      if (Date.now() - started > limitMs) break;
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(pending.size, 0, `not in effect on node(s) ${[...pending].map((n) => n.port).join(', ')} after ${limitMs} ms`);
    return slowest;
  }

  const kids = async (node: FacetProcess) => ((await (await fetch(`${node.baseUrl}/t/demo/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort().join(',');

  test('a signing-key rotation through one node is in effect on all within 2 s', async () => {
    // Every node has the tenant warm.
    const before = await Promise.all(nodes.map(kids));
    assert.equal(new Set(before).size, 1);
    const rotated = await fetch(`${nodes[0]!.baseUrl}/t/demo/admin/api/keys/rotate`, { method: 'POST', headers: { authorization: await adminAuthorization(nodes[0]!.baseUrl, { publicUrl: proxyUrl }) } });
    assert.equal(rotated.status, 200, await rotated.text());
    const ms = await untilEveryNode(async (node) => (await kids(node)) !== before[0]);
    console.log(`key rotation in effect on every node after ${ms} ms`);
  });

  test('an admin change through one node (locking an account) is in effect on the others at once', async () => {
    const tenant = (await findTenant(db.db, 'demo'))!;
    const user = await withTenant(db.db, tenant, (trx) => createUser(trx, { username: 'scale-lou' }));
    const config = await discover(`${proxyUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    const { tokens } = await codeFlow(config, { origin: proxyUrl, sub: user.id, redirectUri: 'http://localhost:3001/callback' });
    const locked = await fetch(`${nodes[0]!.baseUrl}/t/demo/admin/api/users/${user.id}/lock`, { method: 'POST', headers: { authorization: await adminAuthorization(nodes[0]!.baseUrl, { publicUrl: proxyUrl }), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(locked.status, 200, await locked.text());
    // Users, sessions and refresh families are rows, read on every request: nothing to invalidate.
    const ms = await untilEveryNode(async (node) => {
      const page = (await (await fetch(`${node.baseUrl}/t/demo/admin/api/users/${user.id}`, { headers: { authorization: await adminAuthorization(node.baseUrl, { publicUrl: proxyUrl }) } })).json()) as { user?: { status?: string }; status?: string };
      return (page.user?.status ?? page.status) === 'locked';
    });
    for (const node of nodes.slice(1)) {
      const refresh = await fetch(`${node.baseUrl}/t/demo/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('demo-web:demo-web-dev-secret').toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
      });
      assert.equal(refresh.status, 400, 'the locked account cannot refresh on another node');
    }
    console.log(`account lock in effect on every node after ${ms} ms`);
  });

  test('a tenant-file apply is in effect on all nodes within 2 s', async () => {
    const basic = `Basic ${Buffer.from('scale-service:scale-service-dev-secret').toString('base64')}`;
    const grant = (node: FacetProcess) =>
      fetch(`${node.baseUrl}/t/demo/token`, { method: 'POST', headers: { authorization: basic }, body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: 'https://api.demo.example/' }) });
    for (const node of nodes) assert.equal((await grant(node)).status, 401, 'the client does not exist yet');
    const file = path.join(workDir, 'demo.yaml');
    writeFileSync(
      file,
      `${readFileSync(path.join(projectRoot, 'tenants/demo.yaml'), 'utf8').trimEnd()}\n` +
        [
          '  - client_id: scale-service',
          '    client_name: Scale-out test service',
          '    grant_types: [client_credentials]',
          '    token_endpoint_auth_method: client_secret_basic',
          '    secret: { env: SCALE_SERVICE_SECRET, dev: scale-service-dev-secret }',
          '    resources: [https://api.demo.example/]',
          '    scope: orders:read',
          '',
        ].join('\n'),
    );
    const applied = spawnSync(process.execPath, [path.join(projectRoot, 'src/cli/main.ts'), 'tenant', 'apply', file], {
      cwd: projectRoot,
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: testDb.url!, REDIS_URL: '' },
      encoding: 'utf8',
    });
    assert.equal(applied.status, 0, applied.stderr + applied.stdout);
    assert.match(applied.stdout, /clients added \[scale-service\]/);
    const ms = await untilEveryNode(async (node) => (await grant(node)).status === 200);
    console.log(`tenant-file apply in effect on every node after ${ms} ms`);
  });
});
