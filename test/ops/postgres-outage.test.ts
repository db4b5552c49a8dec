// PostgreSQL restarts and stops under load (issue 17, items 1 and 7). Facet runs as its own
// process on a throwaway PostgreSQL cluster (never the shared one) while refresh-token chains,
// admin writes, client_credentials and sign-in pages keep coming. Checked: the process survives,
// nothing answers 500 or resets a connection, requests that need the database get 503 with
// Retry-After in the caller's format, requests that do not keep being served, /ready answers 503
// fast without internal detail, and service is back within 1 s of PostgreSQL accepting again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '../../src/db/client.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { startPgCluster, type PgCluster } from '../support/pg-cluster.ts';
import { startFacetProcess, type FacetProcess } from '../support/facet-process.ts';
import { discover } from '../support/rp.ts';
import { codeFlow } from '../support/code-flow.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { adminAuthorizer } from '../support/admin-client.ts';

const METRICS_TOKEN = 'ops-metrics-token-0123456789abcdef';
const WEB = `Basic ${Buffer.from('demo-web:demo-web-dev-secret').toString('base64')}`;
const SERVICE = `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Kind = 'refresh' | 'admin' | 'client_credentials' | 'discovery';
interface Outcome {
  kind: Kind;
  status: number | 'reset';
  at: number;
  retryAfter: string | null;
  body: string;
}

describe('PostgreSQL restart and stop under load', { timeout: 240_000 }, () => {
  let cluster: PgCluster;
  let facet: FacetProcess;
  let userId: string;
  let adminAuth: () => Promise<string>;
  const refreshTokens: string[] = [];

  before(async () => {
    cluster = await startPgCluster();
    facet = await startFacetProcess({ DATABASE_URL: cluster.url, METRICS_TOKEN });
    // Got while the database is up; reused during the outage (it lives 10 minutes).
    adminAuth = adminAuthorizer(facet.baseUrl);
    await adminAuth();
    const database = await openDatabase({ kind: 'postgres', url: cluster.url });
    try {
      const tenant = (await findTenant(database.db, 'demo'))!;
      userId = (await withTenant(database.db, tenant, (trx) => createUser(trx, { username: 'outage-olga' }))).id;
    } finally {
      await database.close();
    }
    const config = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    for (let i = 0; i < 3; i += 1) {
      const { tokens } = await codeFlow(config, { origin: facet.baseUrl, sub: userId, redirectUri: 'http://localhost:3001/callback', scope: 'openid offline_access' });
      refreshTokens.push(tokens.refresh_token!);
    }
  });
  after(async () => {
    await facet?.kill('SIGKILL');
    await cluster?.destroy();
  });

  async function call(kind: Kind, chain = 0): Promise<Outcome> {
    const at = Date.now();
    try {
      let response: Response;
      if (kind === 'refresh') {
        response = await fetch(`${facet.baseUrl}/t/demo/token`, {
          method: 'POST',
          headers: { authorization: WEB },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshTokens[chain]! }),
        });
      } else if (kind === 'admin') {
        response = await fetch(`${facet.baseUrl}/t/demo/admin/api/users/${userId}/unlock`, { method: 'POST', headers: { authorization: await adminAuth(), 'content-type': 'application/json' }, body: '{}' });
      } else if (kind === 'client_credentials') {
        response = await fetch(`${facet.baseUrl}/t/demo/token`, {
          method: 'POST',
          headers: { authorization: SERVICE },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: 'https://api.demo.example/' }),
        });
      } else {
        response = await fetch(`${facet.baseUrl}/t/demo/.well-known/openid-configuration`);
      }
      const body = await response.text();
      if (kind === 'refresh' && response.status === 200) refreshTokens[chain] = (JSON.parse(body) as { refresh_token: string }).refresh_token;
      return { kind, status: response.status, at, retryAfter: response.headers.get('retry-after'), body };
    } catch (error) {
      return { kind, status: 'reset', at, retryAfter: null, body: String((error as Error).cause ?? error) };
    }
  }

  /** Keeps every kind of request coming until stop() is called. */
  function load() {
    const outcomes: Outcome[] = [];
    let running = true;
    const loop = async (kind: Kind, chain = 0) => {
      while (running) {
        outcomes.push(await call(kind, chain));
        await sleep(10);
      }
    };
    const loops = [loop('refresh', 0), loop('refresh', 1), loop('refresh', 2), loop('admin'), loop('admin'), loop('client_credentials'), loop('discovery')];
    return {
      outcomes,
      async stop() {
        running = false;
        await Promise.all(loops);
        return outcomes;
      },
    };
  }

  function firstSuccessAfter(outcomes: Outcome[], kind: Kind, since: number): number | undefined {
    return outcomes.filter((o) => o.kind === kind && o.at >= since && o.status === 200).sort((a, b) => a.at - b.at)[0]?.at;
  }

  function assertNoFailures(outcomes: Outcome[]) {
    const bad = outcomes.filter((o) => o.status === 'reset' || (typeof o.status === 'number' && o.status >= 500 && o.status !== 503) || (o.status === 503 && !o.retryAfter));
    assert.deepEqual(
      bad.slice(0, 10).map((o) => `${o.kind} ${o.status} ${o.body.slice(0, 160)}`),
      [],
      'no 500, no reset, every 503 carries Retry-After',
    );
    const refused = outcomes.filter((o) => o.kind === 'refresh' && o.status === 400);
    assert.deepEqual(refused.slice(0, 10).map((o) => o.body), [], 'no refresh token lost to the outage');
  }

  test('a restart under load: the process survives and serves again within 1 s', async () => {
    const running = load();
    await sleep(1500);
    await cluster.stop('fast');
    await sleep(300);
    await cluster.start();
    const accepting = Date.now();
    await sleep(2500);
    const outcomes = await running.stop();
    assert.ok(facet.alive, `Facet died:\n${facet.output().slice(-3000)}`);
    assertNoFailures(outcomes);
    const recovery: Record<string, number> = {};
    for (const kind of ['refresh', 'admin'] as const) {
      const back = firstSuccessAfter(outcomes, kind, accepting);
      assert.ok(back !== undefined, `${kind} never recovered`);
      recovery[kind] = back - accepting;
      assert.ok(back - accepting < 1000, `${kind} back ${back - accepting} ms after PostgreSQL accepted connections`);
    }
    console.log('recovered after PostgreSQL accepted (ms):', JSON.stringify(recovery));
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => ((acc[`${o.kind} ${o.status}`] = (acc[`${o.kind} ${o.status}`] ?? 0) + 1), acc), {});
    console.log('restart:', JSON.stringify(counts));
  });

  test('a stop: 503 with Retry-After where the database is needed, the rest served, /ready fast and discreet', async () => {
    // An interaction page to load while the database is down (a page that needs it).
    const jar = new CookieJar();
    const start = new URL(`${facet.baseUrl}/t/demo/auth`);
    for (const [k, v] of Object.entries({ client_id: 'demo-web', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:3001/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) {
      start.searchParams.set(k, v);
    }
    const interaction = await followRedirects(start, jar, { origin: facet.baseUrl });
    assert.match(interaction.url.pathname, /\/interaction\//);

    const running = load();
    await sleep(1000);
    await cluster.stop('fast');
    const stoppedAt = Date.now();
    try {
      // /ready: 503 within 1 s, nothing internal without the metrics token.
      const readyStarted = Date.now();
      const ready = await fetch(`${facet.baseUrl}/ready`);
      const readyMs = Date.now() - readyStarted;
      const readyBody = await ready.text();
      assert.equal(ready.status, 503);
      assert.ok(readyMs < 1000, `/ready took ${readyMs} ms`);
      console.log(`/ready during the stop: ${ready.status} in ${readyMs} ms`);
      for (const secret of ['127.0.0.1', String(cluster.port), 'ECONNREFUSED', 'postgres', 'connect']) assert.ok(!readyBody.includes(secret), `/ready leaks ${secret}: ${readyBody}`);
      assert.deepEqual((JSON.parse(readyBody) as { checks: Array<{ name: string; ok: boolean }> }).checks.find((c) => c.name === 'database'), { name: 'database', ok: false });
      const detailed = await (await fetch(`${facet.baseUrl}/ready`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      assert.match(detailed, /ECONNREFUSED|connect|terminat|shut/i, 'the operator with METRICS_TOKEN sees the cause');

      // OAuth endpoint that needs the database: temporarily_unavailable OAuth JSON.
      const refresh = await call('refresh', 0);
      assert.equal(refresh.status, 503, refresh.body);
      assert.ok(Number(refresh.retryAfter) >= 1);
      assert.equal((JSON.parse(refresh.body) as { error: string }).error, 'temporarily_unavailable');
      // JSON API: problem+json.
      const admin = await fetch(`${facet.baseUrl}/t/demo/admin/api/locked`, { headers: { authorization: await adminAuth() } });
      assert.equal(admin.status, 503);
      assert.ok(Number(admin.headers.get('retry-after')) >= 1);
      assert.equal(admin.headers.get('content-type'), 'application/problem+json');
      assert.equal(((await admin.json()) as { code: string }).code, 'temporarily_unavailable');
      // A page: an HTML page.
      const page = await fetch(interaction.url, { headers: { cookie: jar.header(interaction.url), accept: 'text/html' } });
      assert.equal(page.status, 503);
      assert.ok(Number(page.headers.get('retry-after')) >= 1);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /<html/i);
      // What does not need the database is still served.
      assert.equal((await call('client_credentials')).status, 200);
      assert.equal((await call('discovery')).status, 200);
      assert.equal((await fetch(`${facet.baseUrl}/t/demo/jwks`)).status, 200);
      await sleep(Math.max(0, 3000 - (Date.now() - stoppedAt)));
    } finally {
      await cluster.start();
    }
    const accepting = Date.now();
    await sleep(2000);
    const outcomes = await running.stop();
    assert.ok(facet.alive, `Facet died:\n${facet.output().slice(-3000)}`);
    assertNoFailures(outcomes);
    const recovery: Record<string, number> = {};
    for (const kind of ['refresh', 'admin'] as const) {
      const back = firstSuccessAfter(outcomes, kind, accepting);
      assert.ok(back !== undefined, `${kind} never recovered`);
      recovery[kind] = back - accepting;
      assert.ok(back - accepting < 1000, `${kind} back ${back - accepting} ms after PostgreSQL accepted connections`);
    }
    console.log('recovered after PostgreSQL accepted (ms):', JSON.stringify(recovery));
    const during = outcomes.filter((o) => o.at > stoppedAt + 200 && o.at < accepting);
    assert.ok(during.some((o) => o.kind === 'admin' && o.status === 503));
    assert.ok(during.filter((o) => o.kind === 'client_credentials' || o.kind === 'discovery').every((o) => o.status === 200), 'requests without the database kept being served');
    const ready = await fetch(`${facet.baseUrl}/ready`);
    assert.equal(ready.status, 200);
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => ((acc[`${o.kind} ${o.status}`] = (acc[`${o.kind} ${o.status}`] ?? 0) + 1), acc), {});
    console.log('stop:', JSON.stringify(counts));
  });
});
