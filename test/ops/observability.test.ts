import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { metricsMiddleware } from '../../src/observability/metrics-endpoint.ts';
import { defaultRoute, requestLogger } from '../../src/observability/request-logger.ts';
import { scrub } from '../../src/observability/redact.ts';
import { captureStream } from './helpers.ts';

async function listen(app: Koa) {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe('log redaction', () => {
  it('no token, secret, cookie, password or biometric data reaches the log output', () => {
    const capture = captureStream();
    const logger = createLogger({ destination: capture.stream });
    const secrets = ['eyJhbGciOiJSUzI1NiJ9.access', 'rt-refresh-value', 'idt-value', 'cs-client-secret', 'hunter2', 'sid=cookie-value', 'Bearer abc.def', 'AAECAwQF-embedding'];
    logger.info(
      {
        req: { headers: { authorization: 'Bearer abc.def', cookie: 'sid=cookie-value' } },
        body: { client_secret: 'cs-client-secret', refresh_token: 'rt-refresh-value', grant_type: 'refresh_token' },
        tokens: { access_token: 'eyJhbGciOiJSUzI1NiJ9.access', id_token: 'idt-value' },
        user: { password: 'hunter2', name: 'alice' },
        face: { embedding: [0.1, 0.2], image: 'AAECAwQF-embedding', frames: ['f1'], scores: { similarity: 0.93 } },
        nested: [{ deeper: { demoServiceSecret: 'cs-client-secret', sessionToken: 'rt-refresh-value' } }],
      },
      'sign-in',
    );
    logger.error({ err: Object.assign(new Error('boom'), { headers: { cookie: 'sid=cookie-value' } }) }, 'failed');
    logger.child({ access_token: 'eyJhbGciOiJSUzI1NiJ9.access' }).warn('child bindings too');
    const output = capture.lines.join('\n');
    for (const secret of secrets) assert.ok(!output.includes(secret), `${secret} leaked: ${output}`);
    const [first] = capture.records();
    // What is safe stays readable.
    assert.equal(first.body.grant_type, 'refresh_token');
    assert.equal(first.user.name, 'alice');
    assert.equal(first.face.scores.similarity, 0.93);
    assert.equal(first.face.embedding, '[redacted]');
  });

  it('scrub survives cycles and binary data', () => {
    const a: any = { name: 'x', data: Buffer.from('secret-bytes') };
    a.self = a;
    const out = scrub(a);
    assert.equal(out.self, '[circular]');
    assert.equal(out.data, '[12 bytes]');
  });
});

describe('request logging', () => {
  it('keeps a valid incoming X-Request-Id, replaces an invalid one, and logs one line per request', async () => {
    const capture = captureStream();
    const metrics = createMetrics();
    const app = new Koa();
    app.use(requestLogger(createLogger({ destination: capture.stream }), { metrics }));
    app.use((ctx) => {
      if (ctx.path === '/boom') throw Object.assign(new Error('nope'), { status: 503, expose: true });
      ctx.body = { requestId: ctx.state.requestId };
    });
    const { url, close } = await listen(app);
    const kept = await fetch(`${url}/t/acme/token?code=abc123`, { headers: { 'x-request-id': 'req-123.abc' } });
    assert.equal(kept.headers.get('x-request-id'), 'req-123.abc');
    assert.equal((await kept.json()).requestId, 'req-123.abc');
    const replaced = await fetch(`${url}/t/acme/token`, { headers: { 'x-request-id': 'bad id <script>' } });
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    await replaced.arrayBuffer();
    const failed = await fetch(`${url}/boom`);
    assert.equal(failed.status, 503);
    await failed.arrayBuffer();
    close();

    const lines = capture.records().filter((r) => r.msg === 'request');
    assert.equal(lines.length, 3);
    assert.equal(lines[0].requestId, 'req-123.abc');
    assert.equal(lines[0].status, 200);
    assert.equal(lines[0].route, '/t/:tenant/token');
    assert.equal(lines[0].path, '/t/acme/token', 'no query string (it carries codes)');
    assert.ok(!capture.lines.join('\n').includes('abc123'));
    assert.equal(typeof lines[0].durationMs, 'number');
    assert.equal(lines[2].status, 503);
    assert.equal(lines[2].level, 'error');
    const text = await metrics.registry.metrics();
    assert.match(text, /facet_http_requests_total\{method="GET",route="\/t\/:tenant\/token",status="200"\} 2/);
    assert.match(text, /facet_http_request_duration_seconds_count\{method="GET",route="\/t\/:tenant\/token"\} 2/);
  });

  it('route labels stay low-cardinality', () => {
    const ctx = (path: string, status = 200) => ({ path, status }) as any;
    assert.equal(defaultRoute(ctx('/t/acme/session/3f2a9c1e-1111-4222-8333-444455556666')), '/t/:tenant/session/:id');
    assert.equal(defaultRoute(ctx('/wp-admin.php', 404)), 'unmatched');
  });
});

describe('metrics', () => {
  it('counts domain events and serves them behind a bearer token', async () => {
    const metrics = createMetrics();
    metrics.signIns.inc({ tenant: 'acme', factor: 'passkey', outcome: 'success' });
    metrics.signIns.inc({ tenant: 'acme', factor: 'passkey', outcome: 'success' });
    metrics.faceMatchDuration.observe({ tenant: 'acme' }, 0.3);
    metrics.collectors.activeUsers = async () => [{ tenant: 'acme', value: 42 }];
    metrics.collectors.lockedAccounts = () => {
      throw new Error('database down');
    };
    const app = new Koa();
    app.use(metricsMiddleware(metrics.registry, { token: 'scrape-token' }));
    const { url, close } = await listen(app);
    assert.equal((await fetch(`${url}/metrics`)).status, 401);
    assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-token' } });
    close();
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /text\/plain/);
    const text = await ok.text();
    assert.match(text, /facet_signins_total\{tenant="acme",factor="passkey",outcome="success"\} 2/);
    assert.match(text, /facet_face_match_duration_seconds_count\{tenant="acme"\} 1/);
    assert.match(text, /facet_active_users\{tenant="acme"\} 42/);
    assert.match(text, /# TYPE facet_locked_accounts gauge/, 'a failing collector does not break the scrape');
  });

  it('a hanging collect callback cannot hang the scrape', async () => {
    const metrics = createMetrics({ collectTimeoutMs: 50, queueDepth: () => new Promise(() => {}) });
    const started = Date.now();
    assert.match(await metrics.registry.metrics(), /# TYPE facet_job_queue_depth gauge/);
    assert.ok(Date.now() - started < 2000);
  });

  it('serves openly without a token, and passes other paths through', async () => {
    const metrics = createMetrics();
    const app = new Koa();
    app.use(metricsMiddleware(metrics.registry));
    app.use((ctx) => {
      ctx.body = 'next';
    });
    const { url, close } = await listen(app);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /facet_redis_degraded 0/);
    assert.equal(await (await fetch(`${url}/other`)).text(), 'next');
    close();
  });
});
