// Load generation, kept light because it shares two cores with the server under test: autocannon
// for open HTTP scenarios, a small closed loop for stateful ones (refresh tokens rotate, so each
// request depends on the previous answer). Both are bounded in time and in count.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface Measurement {
  requests: number;
  /** Requests served during the warm-up that preceded the measured part (not in the numbers). */
  warmupRequests?: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface HttpScenario {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** A warm-up that is thrown away, then the measured run. */
export async function measureWithAutocannon(
  scenario: HttpScenario,
  { connections = 10, warmupSeconds = 2, seconds = 8 }: { connections?: number; warmupSeconds?: number; seconds?: number } = {},
): Promise<Measurement> {
  const options = { url: scenario.url, method: scenario.method ?? 'GET', headers: scenario.headers ?? {}, connections, timeout: 10, ...(scenario.body ? { body: scenario.body } : {}) };
  const warmup = warmupSeconds > 0 ? await autocannon({ ...options, duration: warmupSeconds }) : undefined;
  const result = await autocannon({ ...options, duration: seconds });
  const requests = result.requests.total;
  return {
    requests,
    warmupRequests: warmup?.requests.total ?? 0,
    errors: result.errors + result.timeouts + result.non2xx,
    seconds: result.duration,
    rps: requests / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

/**
 * `workers` concurrent loops, each awaiting `step(worker)` again as soon as the last one returned,
 * until `seconds` have passed or `maxRequests` were sent. `step` says whether the request succeeded.
 */
export async function closedLoop(
  step: (worker: number) => Promise<boolean>,
  { workers, seconds, maxRequests }: { workers: number; seconds: number; maxRequests: number },
): Promise<Measurement> {
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline && sent < maxRequests) {
        sent += 1;
        const t0 = performance.now();
        const ok = await step(worker).catch(() => false);
        latencies.push(performance.now() - t0);
        if (!ok) errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, seconds: elapsed, rps: latencies.length / elapsed, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** A keep-alive POST of a form; resolves with status and parsed JSON body. */
export function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; body: any }> {
  const payload = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function closeAgent(): void {
  agent.destroy();
}
