// Issue 18, newcomer path. `npm start` (the real process, NODE_ENV=development, a first start that
// creates the embedded database) prints its first line within 5 s, a line per start step, pretty
// log lines (no JSON) without a line per request, and a banner naming the demo app and the face
// factor. `npm run demo-rp` (scripts/demo-rp.ts) is a relying party that completes a code flow
// with PKCE against Facet and shows the ID token's claims.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDemoRp } from '../../scripts/demo-rp.ts';
import { createUser } from '../../src/accounts/users.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { authorizeAs } from '../support/code-flow.ts';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { CookieJar } from '../support/http-agent.ts';
import { freePort } from '../support/ports.ts';

const FIRST_LINE_MS = 5_000;

describe('npm start, first start in development', () => {
  test('first line within 5 s, progress per step, pretty logs, quiet requests, banner with the demo app and the face factor', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'facet-first-start-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(projectRoot, 'src/main.ts')], {
      cwd: projectRoot,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        DATABASE_URL: '',
        REDIS_URL: '',
        LOG_LEVEL: 'info',
        FACET_DATA_DIR: path.join(dir, 'data'),
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: `http://localhost:${port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      child.kill('SIGKILL');
    });
    let output = '';
    let firstLineAt: number | undefined;
    let faceLineAt: number | undefined;
    let exited = false;
    child.on('exit', () => (exited = true));
    const take = (chunk: Buffer) => {
      output += chunk;
      if (firstLineAt === undefined && output.includes('Facet is starting')) firstLineAt = Date.now() - started;
      if (faceLineAt === undefined && output.includes('· face factor:')) faceLineAt = Date.now() - started;
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    const deadline = Date.now() + 150_000;
    while (!output.includes('Health:')) {
      assert.ok(!exited, `facet exited during start:\n${output}`);
      assert.ok(Date.now() < deadline, `facet did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const readyAt = Date.now() - started;
    t.diagnostic(`first line after ${firstLineAt} ms, banner after ${readyAt} ms`);
    assert.ok(firstLineAt !== undefined && firstLineAt < FIRST_LINE_MS, `first line after ${firstLineAt} ms:\n${output}`);
    assert.match(output, /first start: creating the database/);
    assert.match(output, new RegExp(`· address: http://localhost:${port} \\(its links follow once it is ready\\)`));
    // Whether the face factor will be on is said early too, before the database steps.
    assert.ok(faceLineAt !== undefined && faceLineAt < FIRST_LINE_MS, `face line after ${faceLineAt} ms:\n${output}`);
    assert.match(output, /· face factor: (on \(models found in [^;]+; checked once the server loads\)|off: .+)\n/);
    assert.ok(output.indexOf('· face factor:') < output.indexOf('· creating the embedded database'), 'face line before the database steps');
    for (const step of ['loading the server', 'creating the embedded database', 'bringing the schemas up to date', 'applying the tenant files', 'starting services', `listening on 127.0.0.1:${port}`]) {
      assert.match(output, new RegExp(`· ${step}[^\\n]*\\(\\d+\\.\\d s\\)`), step);
    }
    assert.match(output, /Demo app: +http:\/\/localhost:3001 +\(start it in a second terminal: npm run demo-rp/);
    assert.doesNotMatch(output, /redirect_uri=http:\/\/localhost:3001\/callback/, 'no half-made auth URL in the banner');
    assert.match(output, /Face factor: +(on \(model [^)]+\)|off: .+)/);
    // Pretty: "[hh:mm:ss] INFO: facet is running {…}", no JSON line.
    assert.match(output, /\[\d\d:\d\d:\d\d\] INFO: facet is running/);
    assert.doesNotMatch(output, /^\{"level"/m);

    // Requests are not logged at the default level in development.
    const before = output.length;
    for (const p of ['/health', '/t/demo/account/sign-in', '/t/demo/.well-known/openid-configuration']) await (await fetch(`http://127.0.0.1:${port}${p}`)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.doesNotMatch(output.slice(before), /request/);

    child.kill('SIGTERM');
    const deadlineStop = Date.now() + 20_000;
    while (!exited && Date.now() < deadlineStop) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(exited, 'stopped on SIGTERM');
  });
});

describe('npm run demo-rp', () => {
  let facet: TestFacet;
  let rp: Awaited<ReturnType<typeof startDemoRp>>;
  before(async () => {
    facet = await startTestFacet();
    // demo-web's registered redirect URI is http://localhost:3001/callback: the app says so in
    // its redirect URI while listening on a free port; the test carries the callback over.
    rp = await startDemoRp({ issuer: `${facet.baseUrl}/t/demo`, port: 0, publicUrl: 'http://localhost:3001' });
  });
  after(async () => {
    await rp?.close();
    await facet?.close();
  });

  test('home page, then a code flow with PKCE ending on a page with the ID token claims', async () => {
    const home = await fetch(rp.url);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /href="\/login"/);

    const login = await fetch(`${rp.url}/login`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const stateCookie = login.headers.getSetCookie().find((c) => c.startsWith('demo_rp_state='))!.split(';')[0]!;
    const authorize = new URL(login.headers.get('location')!);
    assert.equal(authorize.origin + authorize.pathname, `${facet.baseUrl}/t/demo/auth`);
    assert.equal(authorize.searchParams.get('client_id'), 'demo-web');
    assert.equal(authorize.searchParams.get('redirect_uri'), 'http://localhost:3001/callback');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');

    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    const sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: `rp-${Date.now()}` }))).id;
    const end = await authorizeAs(authorize, new CookieJar(), { origin: facet.baseUrl, sub });
    assert.equal(end.url.origin + end.url.pathname, 'http://localhost:3001/callback');
    assert.ok(end.url.searchParams.get('code'));

    const callback = await fetch(`${rp.url}/callback${end.url.search}`, { headers: { cookie: stateCookie } });
    const page = await callback.text();
    assert.equal(callback.status, 200, page);
    const claims = JSON.parse(/<pre id="claims">([^<]*)<\/pre>/.exec(page)![1]!.replace(/&#34;/g, '"').replace(/&#38;/g, '&'));
    assert.equal(claims.sub, sub);
    assert.equal(claims.iss, `${facet.baseUrl}/t/demo`);
    assert.equal(claims.aud, 'demo-web');

    // The same answer a second time, or without the browser's state cookie, is refused.
    assert.equal((await fetch(`${rp.url}/callback${end.url.search}`, { headers: { cookie: stateCookie } })).status, 400);
  });

  test('an error from Facet is shown, not a crash', async () => {
    const response = await fetch(`${rp.url}/callback?error=access_denied&error_description=cancelled&state=x`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /access_denied/);
  });
});
