// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per code area
// (a package under node_modules, Facet's own src/ folder, or Node internals).
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  idlePercent: number;
  topFunctions: Array<{ name: string; where: string; selfMs: number; percent: number }>;
  areas: Array<{ area: string; selfMs: number; percent: number }>;
}

export function areaOf(url: string): string {
  if (!url) return '(native/V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(src\/[^/]+|bench|views)\//.exec(url);
  if (own) return own[1]!;
  return url.split('/').slice(-2).join('/');
}

/** Monotonic clock in µs, the clock V8 stamps profile samples with. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * `window` (µs, monotonicUs) keeps only the samples taken while the load ran, so start-up
 * (module compilation) and shutdown do not count.
 */
export async function summariseProfile(file: string, { top = 15, window }: { top?: number; window?: { from: number; to: number } } = {}): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.from || at > window.to)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    if (functionName === '(idle)' || functionName === '(program)') {
      if (functionName === '(idle)') idle += us;
      continue;
    }
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const area = functionName === '(garbage collector)' ? '(garbage collector)' : areaOf(url);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => Math.round((1000 * us) / busy) / 10;
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    idlePercent: Math.round((1000 * idle) / total) / 10,
    topFunctions: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, top).map((f) => ({ name: f.name, where: f.where, selfMs: Math.round(f.us / 1000), percent: pct(f.us) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: Math.round(us / 1000), percent: pct(us) })),
  };
}

/**
 * Busy CPU per request by code area, Facet next to the bare provider, largest difference first:
 * where Facet's extra microseconds go. `requests` is what each profiled child served.
 */
export function compareProfiles(facet: ProfileSummary, facetRequests: number, bare: ProfileSummary, bareRequests: number, top = 12) {
  const perRequest = (summary: ProfileSummary, requests: number) => new Map(summary.areas.map((a) => [a.area, (1000 * a.selfMs) / requests]));
  const f = perRequest(facet, facetRequests);
  const b = perRequest(bare, bareRequests);
  const rows = [...new Set([...f.keys(), ...b.keys()])].map((area) => ({ area, facetUs: f.get(area) ?? 0, bareUs: b.get(area) ?? 0 }));
  return {
    busyUsPerRequest: { facet: (1000 * facet.busyMs) / facetRequests, bare: (1000 * bare.busyMs) / bareRequests },
    areas: rows.sort((x, y) => y.facetUs - y.bareUs - (x.facetUs - x.bareUs)).slice(0, top),
  };
}
