// Checks the deployment files without a Docker engine: every YAML and JSON under infra/ and
// docker-compose.yml parses; the compose file has the expected services with pinned images and
// the app's environment; collector, Prometheus and Grafana configs have the parts Facet relies on;
// and every metric the Grafana dashboards query exists in createMetrics().
// Usage: node scripts/validate-infra.ts [root]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { createMetrics } from '../src/observability/metrics.ts';

const REQUIRED_SERVICES = ['postgres', 'redis', 'app', 'worker', 'otel-collector', 'prometheus', 'grafana'];
const REQUIRED_APP_ENV = [
  'DATABASE_URL',
  'REDIS_URL',
  'PUBLIC_URL',
  'NODE_ENV',
  'FACET_KEK',
  'FACET_EMBEDDING_KEYS',
  'FACET_FACTOR_KEYS',
  'FACET_COOKIE_KEYS',
  'FACET_MODELS_DIR',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'METRICS_TOKEN',
  'TRUST_PROXY',
  'DEMO_SERVICE_SECRET',
  'DEMO_WEB_SECRET',
];

export function validateInfra(root: string): string[] {
  const problems: string[] = [];
  const parsed = new Map<string, unknown>();

  // 1. Everything parses.
  const files = [path.join(root, 'docker-compose.yml'), ...walk(path.join(root, 'infra'))].filter((f) => /\.(ya?ml|json)$/.test(f));
  for (const file of files) {
    const rel = path.relative(root, file);
    try {
      const text = readFileSync(file, 'utf8');
      parsed.set(rel, file.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
    } catch (error) {
      problems.push(`${rel}: does not parse: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  // 2. Compose: services, pinned images, app environment, mounted files exist.
  const compose = parsed.get('docker-compose.yml') as any;
  if (!compose?.services) {
    problems.push('docker-compose.yml: no services');
  } else {
    for (const name of REQUIRED_SERVICES) if (!compose.services[name]) problems.push(`docker-compose.yml: service ${name} is missing`);
    for (const [name, service] of Object.entries<any>(compose.services)) {
      if (!service.image && !service.build) problems.push(`docker-compose.yml: ${name} has neither image nor build`);
      if (service.image && !service.build && !isPinned(service.image)) problems.push(`docker-compose.yml: ${name} image ${service.image} is not pinned to a tag or digest`);
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume?.source;
        if (typeof source === 'string' && source.startsWith('./') && !existsSync(path.join(root, source))) problems.push(`docker-compose.yml: ${name} mounts ${source}, which does not exist`);
      }
    }
    if (compose.services.postgres && !String(compose.services.postgres.image ?? '').startsWith('pgvector/pgvector:')) problems.push('docker-compose.yml: postgres must use the pgvector image');
    const appEnv = envKeys(compose.services.app?.environment);
    for (const key of REQUIRED_APP_ENV) if (!appEnv.has(key)) problems.push(`docker-compose.yml: app environment lacks ${key}`);
    const workerCommand = [compose.services.worker?.command ?? []].flat().join(' ');
    if (!/src\/cli\/main\.ts worker/.test(workerCommand)) problems.push('docker-compose.yml: worker must run `node src/cli/main.ts worker`');
    // Audit export archives are written by the worker and downloaded through any app node: every
    // Facet service must have FACET_AUDIT_EXPORT_DIR on a named (shared) volume.
    for (const [name, service] of Object.entries<any>(compose.services)) {
      if (service.image !== 'facet:local') continue;
      const dir = envValue(service.environment, 'FACET_AUDIT_EXPORT_DIR');
      const shared = (service.volumes ?? []).some((volume: unknown) => {
        const [source, target] = typeof volume === 'string' ? volume.split(':') : [(volume as any)?.source, (volume as any)?.target];
        return typeof source === 'string' && !source.startsWith('.') && !source.startsWith('/') && target === dir;
      });
      if (!dir || !shared) problems.push(`docker-compose.yml: ${name} must have FACET_AUDIT_EXPORT_DIR on a named volume shared by the app nodes and the worker`);
    }
    // The `scale` profile: at least three app nodes (app and the facet:local services of the
    // profile) behind a proxy whose HAProxy config names every one of them.
    const scaleNodes = ['app', ...Object.entries<any>(compose.services).filter(([, service]) => service.profiles?.includes('scale') && service.image === 'facet:local').map(([name]) => name)];
    if (scaleNodes.length < 3) problems.push('docker-compose.yml: the scale profile needs at least three app nodes');
    const proxy = compose.services.proxy;
    if (!proxy?.profiles?.includes('scale')) problems.push('docker-compose.yml: the scale profile has no proxy');
    else {
      for (const name of scaleNodes) {
        if (name !== 'app' && !envKeys(compose.services[name].environment).has('DATABASE_URL')) problems.push(`docker-compose.yml: ${name} lacks the app environment`);
      }
      const haproxyFile = path.join(root, 'infra', 'haproxy.cfg');
      const haproxy = existsSync(haproxyFile) ? readFileSync(haproxyFile, 'utf8') : '';
      if (!haproxy) problems.push('infra/haproxy.cfg: missing');
      for (const name of scaleNodes) if (haproxy && !new RegExp(`^\\s*server\\s+\\S+\\s+${name}:3000\\b`, 'm').test(haproxy)) problems.push(`infra/haproxy.cfg: no server for app node ${name}`);
      if (haproxy && !/^\s*balance\s+roundrobin\b/m.test(haproxy)) problems.push('infra/haproxy.cfg: not round robin');
    }
  }

  // 3. Collector: OTLP in, a traces pipeline whose parts are all defined.
  const otel = parsed.get(path.join('infra', 'otel-collector.yaml')) as any;
  if (!otel) problems.push('infra/otel-collector.yaml: missing');
  else {
    if (!otel.receivers?.otlp) problems.push('infra/otel-collector.yaml: no otlp receiver');
    const pipeline = otel.service?.pipelines?.traces;
    if (!pipeline) problems.push('infra/otel-collector.yaml: no traces pipeline');
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const name of pipeline?.[kind] ?? []) if (!otel[kind]?.[name]) problems.push(`infra/otel-collector.yaml: pipeline uses undefined ${kind.slice(0, -1)} ${name}`);
    }
  }

  // 4. Prometheus scrapes Facet.
  const prometheus = parsed.get(path.join('infra', 'prometheus.yml')) as any;
  if (!prometheus?.scrape_configs?.some((c: any) => c.job_name === 'facet' && c.metrics_path === '/metrics')) problems.push('infra/prometheus.yml: no scrape job "facet" on /metrics');

  // 5. Grafana: provisioning has apiVersion; dashboards use provisioned data sources and real metrics.
  const datasourceUids = new Set<string>();
  for (const [rel, doc] of parsed) {
    if (!rel.startsWith(path.join('infra', 'grafana', 'provisioning'))) continue;
    if ((doc as any)?.apiVersion !== 1) problems.push(`${rel}: apiVersion 1 expected`);
    for (const ds of (doc as any)?.datasources ?? []) if (ds.uid) datasourceUids.add(ds.uid);
  }
  const known = new Set<string>();
  for (const metric of createMetrics().registry.getMetricsAsArray()) known.add(metric.name);
  let dashboards = 0;
  for (const [rel, doc] of parsed) {
    if (!rel.startsWith(path.join('infra', 'grafana', 'dashboards')) || !rel.endsWith('.json')) continue;
    dashboards++;
    const dashboard = doc as any;
    if (!dashboard?.uid || !dashboard?.title) problems.push(`${rel}: dashboard needs uid and title`);
    const panels = (dashboard?.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]).filter((p: any) => p.type !== 'row');
    if (panels.length === 0) problems.push(`${rel}: no panels`);
    for (const p of panels) {
      if (!p.targets?.length) problems.push(`${rel}: panel "${p.title}" has no queries`);
      const uid = p.datasource?.uid;
      if (uid && !datasourceUids.has(uid)) problems.push(`${rel}: panel "${p.title}" uses data source ${uid}, which is not provisioned`);
      for (const target of p.targets ?? []) {
        for (const name of metricNames(String(target.expr ?? ''))) {
          if (!known.has(name)) problems.push(`${rel}: panel "${p.title}" queries ${name}, which createMetrics() does not define`);
        }
      }
    }
  }
  if (dashboards === 0) problems.push('infra/grafana/dashboards: no dashboard');

  // 6. Dockerfile essentials (text checks; there is no engine here to build it).
  const dockerfilePath = path.join(root, 'Dockerfile');
  if (!existsSync(dockerfilePath)) problems.push('Dockerfile: missing');
  else {
    const dockerfile = readFileSync(dockerfilePath, 'utf8');
    const checks: Array<[RegExp, string]> = [
      [/node:24-bookworm-slim/, 'base image node:24-bookworm-slim'],
      [/npm ci --omit=dev/, 'npm ci --omit=dev'],
      [/ONNXRUNTIME_NODE_INSTALL=skip/, 'ONNXRUNTIME_NODE_INSTALL=skip'],
      [/^USER\s+(?!root\b|0\b)\S+/m, 'a non-root USER'],
      [/^HEALTHCHECK[\s\S]*\/health/m, 'a HEALTHCHECK on /health'],
      [/^CMD \["node", ?"src\/main\.ts"\]/m, 'CMD ["node","src/main.ts"]'],
    ];
    for (const [pattern, what] of checks) if (!pattern.test(dockerfile)) problems.push(`Dockerfile: needs ${what}`);
  }
  return problems;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

function isPinned(image: string): boolean {
  if (image.includes('@sha256:')) return true;
  const lastSegment = image.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return !!tag && tag !== 'latest' && !tag.includes('$');
}

function envKeys(environment: unknown): Set<string> {
  if (Array.isArray(environment)) return new Set(environment.map((e) => String(e).split('=')[0]));
  if (environment && typeof environment === 'object') return new Set(Object.keys(environment));
  return new Set();
}

function envValue(environment: unknown, key: string): string | undefined {
  if (Array.isArray(environment)) return environment.map(String).find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1);
  if (environment && typeof environment === 'object') {
    const value = (environment as Record<string, unknown>)[key];
    return value === undefined || value === null ? undefined : String(value);
  }
  return undefined;
}

/** Metric names in a PromQL expression, with histogram series suffixes mapped to the metric. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const match of expr.matchAll(/\bfacet_[a-z0-9_]+/g)) names.add(match[0].replace(/_(bucket|sum|count)$/, ''));
  return [...names];
}

if (import.meta.main) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = validateInfra(root);
  for (const problem of problems) console.error(`validate-infra: ${problem}`);
  if (problems.length > 0) process.exit(1);
  console.log('validate-infra: ok');
}
