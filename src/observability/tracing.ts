// OpenTelemetry tracing for HTTP (in and out), Koa middleware, PostgreSQL and Redis. Call
// startTracing() before anything imports koa, pg or ioredis — i.e. first thing in main, with the
// rest of the app loaded by dynamic import afterwards — because instrumentation works by wrapping
// those modules as they load. Spans are exported over OTLP/HTTP only when an endpoint is given.
//
// With tracing off (no endpoint, no processor) none of the SDK is even loaded: its modules are
// ~15 MB of heap that every major garbage collection would mark for nothing (docs/benchmarks.md,
// oidc). They are required on demand (their CommonJS builds, so startTracing stays synchronous);
// the API they register is global, shared with the @opentelemetry/api the rest of Facet imports.
import { createRequire, register } from 'node:module';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

const requireOnDemand = createRequire(import.meta.url);

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT), e.g. http://otel-collector:4318. */
  endpoint?: string;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
  /** Paths whose incoming requests are not traced (probes and scrapes). */
  ignorePaths?: string[];
}

export interface Tracing {
  enabled: boolean;
  /** Flushes pending spans; call during graceful shutdown. */
  shutdown(): Promise<void>;
}

// Only these modules go through the ESM loader hook: wrapping every module costs start-up time
// and some modules do not survive it.
const HOOKED_MODULES = ['koa', 'pg', 'ioredis', 'http', 'https', 'node:http', 'node:https'];
let hookRegistered = false;

export function startTracing({ serviceName, endpoint, spanProcessors = [], ignorePaths = ['/health', '/ready', '/metrics'] }: TracingOptions): Tracing {
  // Nothing would receive the spans: skip the instrumentation overhead entirely (and the SDK's modules).
  if (spanProcessors.length === 0 && !endpoint) return { enabled: false, shutdown: async () => {} };
  const { startNodeSdk } = requireOnDemand('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = requireOnDemand('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const { OTLPTraceExporter } = requireOnDemand('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  const { HttpInstrumentation } = requireOnDemand('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { KoaInstrumentation } = requireOnDemand('@opentelemetry/instrumentation-koa') as typeof import('@opentelemetry/instrumentation-koa');
  const { PgInstrumentation } = requireOnDemand('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = requireOnDemand('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const processors = [...spanProcessors];
  if (endpoint) processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }) }));

  if (!hookRegistered) {
    // Facet's own modules are ESM, so `import Koa from 'koa'` bypasses require-in-the-middle;
    // import-in-the-middle's loader hook makes those imports patchable too.
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: HOOKED_MODULES } });
    hookRegistered = true;
  }
  const sdk = startNodeSdk({
    resourceAttributes: { 'service.name': serviceName },
    resourceDetectors: [],
    spanProcessors: processors,
    // Metrics go through prom-client and logs through pino; the SDK handles traces only.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => ignorePaths.includes((req.url ?? '').split('?')[0]) }),
      new KoaInstrumentation(),
      // Never put statement parameters (they include token hashes and user data) on spans.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation(),
    ],
  });
  return {
    enabled: true,
    shutdown: async () => {
      try {
        await sdk.shutdown();
      } catch {
        // An unreachable collector must not turn a clean shutdown into a crash.
      }
    },
  };
}
