// Redis unreachable: Facet starts and serves on per-process limits, and says so in /ready.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';

describe('with Redis unreachable', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet({ database: 'pglite', env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  after(async () => facet?.close());

  test('token requests are still served and limited, and /ready reports the degradation', async () => {
    const response = await fetch(`${facet.baseUrl}/t/demo/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: 'https://api.demo.example/' }),
    });
    assert.equal(response.status, 200);
    const ready = (await (await fetch(`${facet.baseUrl}/ready`)).json()) as { checks: Array<{ name: string; ok: boolean; detail?: string }> };
    const redis = ready.checks.find((c) => c.name === 'redis')!;
    assert.match(redis.detail ?? '', /degraded/);
    const limits = ready.checks.find((c) => c.name === 'ratelimit')!;
    assert.match(limits.detail ?? '', /degraded: Redis unavailable, per-process limits/);
    const metrics = await (await fetch(`${facet.baseUrl}/metrics`)).text();
    assert.match(metrics, /facet_redis_degraded 1/);
  });
});
