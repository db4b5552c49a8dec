// POST /t/<slug>/token on the short path (src/app.ts, issue 16): no outer Koa context, but the
// request id, the HTTP metrics, the rate limits (token.ip, token.account) and their 429 are kept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';

const BASIC = `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`;

describe('token endpoint on the short path', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet({ env: { FACET_RATE_LIMITS: JSON.stringify({ 'token.ip': { points: 1000 }, 'token.account': { points: 3, duration: 60 } }) } });
  });
  after(async () => facet?.close());

  const token = (headers: Record<string, string> = {}, path = '/t/demo/token') =>
    fetch(`${facet.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.demo.example/', scope: 'orders:read' }),
    });

  const counted = async (status: string) => {
    const values = (await facet.services.metrics.httpRequests.get()).values;
    return values.find((v) => v.labels.route === '/t/:tenant/token' && v.labels.method === 'POST' && v.labels.status === status)?.value ?? 0;
  };

  test('issues tokens with a request id (kept when well-formed) and counts them under the route template', async () => {
    const before = await counted('200');
    const first = await token();
    assert.equal(first.status, 200, await first.clone().text());
    assert.ok(((await first.json()) as { access_token?: string }).access_token);
    assert.match(first.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    // The provider's security headers (src/oidc/provider-pages.ts) are on the token answer too.
    assert.match(first.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(first.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(first.headers.get('x-frame-options'), 'DENY');
    assert.equal(first.headers.get('referrer-policy'), 'no-referrer');
    const second = await token({ 'x-request-id': 'rp-trace.42' });
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-request-id'), 'rp-trace.42');
    assert.equal(await counted('200'), before + 2);
  });

  test('token.account still refuses with 429, Retry-After and the OAuth error, counted once', async () => {
    // Three points per client per minute; the first test spent two.
    const before = await counted('429');
    let refused: Response | undefined;
    for (let i = 0; i < 3 && !refused; i += 1) {
      const answer = await token();
      if (answer.status === 429) refused = answer;
    }
    assert.ok(refused, 'the fourth request in the minute is refused');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(((await refused.json()) as { error: string }).error, 'temporarily_unavailable');
    assert.ok(refused.headers.get('x-request-id'));
    assert.equal(await counted('429'), before + 1);
  });

  test('an unknown tenant is a 404, a token path with a query string still works through Koa', async () => {
    assert.equal((await token({}, '/t/nobody-here/token')).status, 404);
    const viaKoa = await fetch(`${facet.baseUrl}/t/demo/token?x=1`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    assert.equal(viaKoa.status, 400, 'no client authentication: refused by the provider');
    assert.equal(typeof ((await viaKoa.json()) as { error?: unknown }).error, 'string');
  });
});

describe('token endpoint on the short path behind a proxy (TRUST_PROXY=1)', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet({ env: { TRUST_PROXY: '1', FACET_RATE_LIMITS: JSON.stringify({ 'token.ip': { points: 2, duration: 60 }, 'token.account': { points: 1000 } }) } });
  });
  after(async () => facet?.close());

  const token = (forwardedFor: string) =>
    fetch(`${facet.baseUrl}/t/demo/token`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.demo.example/', scope: 'orders:read' }),
    });

  test('token.ip counts the address the proxy forwarded, not the proxy', async () => {
    assert.equal((await token('203.0.113.7')).status, 200);
    assert.equal((await token('203.0.113.7')).status, 200);
    assert.equal((await token('203.0.113.7')).status, 429, 'the third request of that address in the minute');
    assert.equal((await token('203.0.113.8')).status, 200, 'another address behind the same proxy has its own budget');
  });
});
