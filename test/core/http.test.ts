// The HTTP surface of the core: health, readiness, error representations, correlation ids,
// unknown and disabled tenants.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { setTenantStatus } from '../../src/tenancy/registry.ts';
import { createTenant } from '../../src/tenancy/provision.ts';

describe('HTTP surface', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet({ env: { FACET_RATE_LIMITS: JSON.stringify({ 'token.ip': { points: 5, duration: 60 }, 'signin.ip': { points: 3, duration: 60 } }) } });
  });
  after(async () => facet?.close());

  test('/health answers while the process is up; /ready checks database and migrations', async () => {
    assert.deepEqual(await (await fetch(`${facet.baseUrl}/health`)).json(), { status: 'ok' });
    const ready = await fetch(`${facet.baseUrl}/ready`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { ready: boolean; checks: Array<{ name: string; ok: boolean }> };
    assert.equal(body.ready, true);
    assert.deepEqual(body.checks.map((c) => c.name).sort(), ['database', 'migrations', 'models', 'ratelimit', 'redis']);
  });

  test('X-Request-Id is honoured when well-formed and generated otherwise', async () => {
    const echoed = await fetch(`${facet.baseUrl}/health`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(echoed.headers.get('x-request-id'), 'abc-123');
    const replaced = await fetch(`${facet.baseUrl}/health`, { headers: { 'x-request-id': 'bad id with spaces <script>' } });
    assert.match(replaced.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  });

  test('an unknown tenant is problem+json for APIs and a page for browsers', async () => {
    const api = await fetch(`${facet.baseUrl}/t/ghost/token`, { method: 'POST' });
    assert.equal(api.status, 404);
    assert.equal(api.headers.get('content-type'), 'application/problem+json');
    const problem = (await api.json()) as Record<string, unknown>;
    assert.equal(problem.status, 404);
    assert.equal(problem.code, 'not_found');
    assert.ok(problem.request_id);
    const page = await fetch(`${facet.baseUrl}/t/ghost/auth`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(await page.text(), /no active tenant called ghost/);
  });

  test('OAuth endpoints answer OAuth error JSON', async () => {
    const response = await fetch(`${facet.baseUrl}/t/demo/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password' }) });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string };
    assert.ok(['invalid_request', 'unsupported_grant_type', 'invalid_client'].includes(body.error), body.error);
  });

  test('a browser error in the authorization endpoint is a helpful page without internals', async () => {
    const response = await fetch(`${facet.baseUrl}/t/demo/auth?client_id=nobody&response_type=code&scope=openid`, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 400);
    const html = await response.text();
    assert.match(html, /invalid_client/);
    assert.doesNotMatch(html, /at .*\.js:\d+/, 'no stack trace');
  });

  test('a disabled tenant answers 403 tenant_disabled (not a bare 404) and comes back when enabled', async () => {
    await createTenant(facet.database.db, { slug: 'sleepy', name: 'Sleepy' }, { kek: facet.config.kek });
    const discovery = `${facet.baseUrl}/t/sleepy/.well-known/openid-configuration`;
    assert.equal((await fetch(discovery)).status, 200);
    await setTenantStatus(facet.database.db, 'sleepy', 'disabled');
    facet.facet.pool.invalidate('sleepy');
    const disabled = await fetch(discovery);
    assert.equal(disabled.status, 403);
    assert.equal(((await disabled.json()) as { code: string }).code, 'tenant_disabled');
    assert.equal((await fetch(`${facet.baseUrl}/t/never-was/.well-known/openid-configuration`)).status, 404);
    await setTenantStatus(facet.database.db, 'sleepy', 'active');
    assert.equal((await fetch(discovery)).status, 200);
  });

  test('/metrics exposes Prometheus text with request counts', async () => {
    await fetch(`${facet.baseUrl}/t/demo/.well-known/openid-configuration`);
    const response = await fetch(`${facet.baseUrl}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /facet_http_requests_total\{[^}]*status="200"[^}]*\} \d+/);
    assert.match(text, /facet_active_users\{tenant="demo"\} \d+/);
  });

  test('token endpoints are rate limited per IP with an OAuth-shaped 429', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 7; i += 1) {
      last = await fetch(`${facet.baseUrl}/t/demo/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) });
    }
    assert.equal(last!.status, 429);
    assert.ok(Number(last!.headers.get('retry-after')) > 0);
    assert.equal(((await last!.json()) as { error: string }).error, 'temporarily_unavailable');
  });

  test('sign-in steps are rate limited per IP with a clear answer', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await fetch(`${facet.baseUrl}/t/demo/account/sign-in/passkey/options`, { method: 'POST', headers: { accept: 'application/json' } });
      statuses.push(response.status);
      if (response.status === 429) {
        assert.ok(Number(response.headers.get('retry-after')) > 0);
        assert.match(((await response.json()) as { detail: string }).detail, /Too many attempts/);
      }
    }
    assert.deepEqual(statuses.slice(3), [429, 429]);
    assert.ok(statuses.slice(0, 3).every((s) => s !== 429));
  });

  test('static assets come from our origin with nosniff; paths outside assets are refused', async () => {
    const css = await fetch(`${facet.baseUrl}/assets/facet.css`);
    assert.equal(css.status, 200);
    assert.equal(css.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await fetch(`${facet.baseUrl}/assets/..%2fpackage.json`)).status, 404);
  });
});
