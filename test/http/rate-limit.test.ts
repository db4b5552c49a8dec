// The rate-limit middleware and its one 429 responder (moved from test/ops/ratelimit.test.ts):
// the representation follows the route (OAuth endpoint, admin API, page) and Retry-After is
// always there.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { clientIp, createRateLimits } from '../../src/ratelimit/index.ts';
import { rateLimit } from '../../src/http/middleware/rate-limit.ts';
import { recordingLogger } from '../ops/helpers.ts';

describe('429 responses', () => {
  async function serve(path: string, headers: Record<string, string> = {}) {
    const limits = createRateLimits({ logger: recordingLogger(), limits: { 'token.ip': { points: 1, duration: 30 } } });
    const app = new Koa();
    app.use(rateLimit(limits, 'token.ip', (ctx) => clientIp(ctx)));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    const first = await fetch(url, { method: 'POST', headers });
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    const second = await fetch(url, { method: 'POST', headers });
    server.close();
    return second;
  }

  it('OAuth endpoints get temporarily_unavailable JSON with Retry-After', async () => {
    const res = await serve('/t/demo/token');
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = await res.json();
    assert.equal(body.error, 'temporarily_unavailable');
    assert.match(body.error_description, /Try again in \d+ seconds?/);
  });

  it('the admin API gets problem+json', async () => {
    const res = await serve('/t/demo/admin/api/users/x/unlock', { accept: 'text/html' });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = await res.json();
    assert.equal(body.status, 429);
    assert.equal(body.title, 'Too Many Requests');
    assert.equal(body.code, 'rate_limited');
  });

  it('JSON calls from page scripts get problem+json with the message in detail', async () => {
    const res = await serve('/t/demo/account/sign-in/passkey/options', { accept: 'application/json', 'content-type': 'application/json' });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match((await res.json()).detail, /^Too many requests\. Try again in \d+ seconds?\.$/);
  });

  it('browsers get a small HTML page', async () => {
    const res = await serve('/t/demo/account/sign-in/signup', { accept: 'text/html' });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), /<h1>Too many attempts<\/h1>/);
  });
});
