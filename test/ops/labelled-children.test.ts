// Metrics counted through cached prom-client children (src/observability/labelled-children.ts):
// the helper on a real registry, then the series the server counts through it (tokens issued,
// the short paths' HTTP metrics) read back from the running server's registry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { labelledChildren } from '../../src/observability/labelled-children.ts';
import { startTestFacet, type TestFacet } from '../support/facet.ts';

describe('labelledChildren', () => {
  test('one child per label set, counting into that series only', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'things_total', help: 'things', labelNames: ['tenant', 'kind'] as const, registers: [registry] });
    const children = labelledChildren(counter);
    assert.equal(children.get({ tenant: 'a', kind: 'x' }), children.get({ tenant: 'a', kind: 'x' }), 'cached');
    assert.notEqual(children.get({ tenant: 'ab', kind: 'c' }), children.get({ tenant: 'a', kind: 'bc' }), 'values are not run together');
    children.get({ tenant: 'a', kind: 'x' }).inc();
    children.get({ tenant: 'a', kind: 'x' }).inc();
    children.get({ tenant: 'b', kind: 'x' }).inc();
    const values = (await counter.get()).values.map((v) => [v.labels.tenant, v.labels.kind, v.value]);
    assert.deepEqual(values.sort(), [['a', 'x', 2], ['b', 'x', 1]]);
  });
});

describe('series the server counts through cached children', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet();
  });
  after(async () => facet?.close());

  const valueOf = async (metric: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number; metricName?: string }> }> }, labels: Record<string, string>, metricName?: string) =>
    (await metric.get()).values.find((v) => (!metricName || v.metricName === metricName) && Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? 0;

  test('facet_tokens_issued_total by tenant and kind, once per token', async () => {
    const issued = (kind: string) => valueOf(facet.services.metrics.tokensIssued, { tenant: 'demo', kind });
    const before = await issued('access_token');
    for (let i = 0; i < 2; i++) {
      const answer = await fetch(`${facet.baseUrl}/t/demo/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.demo.example/', scope: 'orders:read' }),
      });
      assert.equal(answer.status, 200, await answer.text());
    }
    assert.equal(await issued('access_token'), before + 2);
    assert.equal(await issued('refresh_token'), 0, 'client_credentials issues no refresh token');
  });

  test('discovery, JWKS and the RFC 8414 path: requests by route template and status, durations by route', async () => {
    const { httpRequests, httpDuration } = facet.services.metrics;
    const routes = ['/t/:tenant/.well-known/openid-configuration', '/t/:tenant/jwks', '/.well-known/oauth-authorization-server/t/:tenant'];
    const count = (route: string, status: string) => valueOf(httpRequests, { method: 'GET', route, status });
    const observed = (route: string) => valueOf(httpDuration, { method: 'GET', route }, 'facet_http_request_duration_seconds_count');
    const before = await Promise.all(routes.map(async (route) => [await count(route, '200'), await observed(route)]));
    for (const path of ['/t/demo/.well-known/openid-configuration', '/t/demo/jwks', '/t/demo/jwks', '/.well-known/oauth-authorization-server/t/demo']) {
      const answer = await fetch(`${facet.baseUrl}${path}`);
      assert.equal(answer.status, 200, path);
      await answer.arrayBuffer();
    }
    const after = await Promise.all(routes.map(async (route) => [await count(route, '200'), await observed(route)]));
    assert.deepEqual(after.map(([c, o], i) => [c! - before[i]![0]!, o! - before[i]![1]!]), [[1, 1], [2, 2], [1, 1]]);
  });
});
