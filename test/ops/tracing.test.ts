// Tracing must start before koa and http are loaded, so this file imports them dynamically after
// startTracing(). Node's test runner gives each test file its own process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing } from '../../src/observability/tracing.ts';
import { captureStream } from './helpers.ts';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'facet-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const { default: Koa } = await import('koa');
const { default: Router } = await import('@koa/router');
const { createLogger } = await import('../../src/observability/logger.ts');
const { requestLogger } = await import('../../src/observability/request-logger.ts');

after(() => tracing.shutdown());

describe('tracing', () => {
  it('produces spans for an HTTP request to a Koa app, and the request log line carries the trace id', async () => {
    assert.equal(tracing.enabled, true);
    const capture = captureStream();
    const logger = createLogger({ destination: capture.stream });
    const app = new Koa();
    app.use(requestLogger(logger));
    const router = new Router();
    router.get('/t/:tenant/hello', (ctx) => {
      ctx.body = { hello: ctx.params.tenant };
    });
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/t/acme/hello`);
    assert.equal(res.status, 200);
    await res.json();
    server.close();
    await once(server, 'close');

    const spans = exporter.getFinishedSpans();
    const serverSpan = spans.find((s) => s.kind === 1 /* SERVER */);
    assert.ok(serverSpan, `an HTTP server span among ${spans.map((s) => s.name).join(', ')}`);
    assert.ok(spans.some((s) => s.instrumentationScope.name.includes('koa')), 'Koa middleware spans');
    const line = capture.records().find((r) => r.msg === 'request');
    assert.ok(line);
    assert.equal(line.traceId, serverSpan.spanContext().traceId);
    assert.equal(line.route, '/t/:tenant/hello');
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('stays off without an endpoint or processor', () => {
    assert.equal(startTracing({ serviceName: 'x' }).enabled, false);
  });

  it('with tracing off, none of the SDK is loaded (a fresh process)', async () => {
    // Every module resolution of a fresh process is recorded (module.registerHooks sees import and
    // require alike); it imports tracing.ts and starts tracing with nothing to export to.
    const tracingUrl = new URL('../../src/observability/tracing.ts', import.meta.url).href;
    const script = [
      "import { registerHooks } from 'node:module';",
      'const seen = [];',
      'registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });',
      `const { startTracing } = await import(${JSON.stringify(tracingUrl)});`,
      "const tracing = startTracing({ serviceName: 'off' });",
      "console.log(JSON.stringify({ enabled: tracing.enabled, sdk: seen.filter((u) => /@opentelemetry\\/(sdk-|exporter-|instrumentation)/.test(u)) }));",
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { enabled: boolean; sdk: string[] };
    assert.equal(result.enabled, false);
    assert.deepEqual(result.sdk, [], 'no OpenTelemetry SDK, exporter or instrumentation module loaded');
  });
});
