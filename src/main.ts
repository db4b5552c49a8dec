// `npm start`: run Facet. Embedded PGlite unless DATABASE_URL is set; the demo tenant is applied.
// Tracing starts before koa, pg and ioredis are loaded, so their instrumentation can hook in;
// everything else is imported afterwards. Outside production the first line is printed before
// anything slow happens, then one line per start step (a first start creates the embedded
// database, which takes a while), then the banner with the URLs; logs are pretty-printed
// (pino-pretty). In production every line is JSON. Nothing of ours is imported statically: the
// first line goes out before any module loads (OpenTelemetry alone takes seconds on a busy machine).
// The one exception is the small TSX module hook (src/tsx-hooks.ts) the pages under ui/ need.
import { existsSync } from 'node:fs';
import './tsx-hooks.ts';

if (process.env.NODE_ENV !== 'production') process.stdout.write('\n  Facet is starting …\n');

/** The demo relying party `npm run demo-rp` starts (scripts/demo-rp.ts); demo-web's redirect URI. */
const DEMO_RP_URL = 'http://localhost:3001';

/**
 * Whether the face factor will be on, said before the slow steps: the required model files are
 * present or not (their checksums are verified later, and the final banner says the outcome).
 */
async function faceOutlook(modelsDir: string): Promise<string> {
  const { readManifest } = await import('./face/models.ts');
  const manifest = await readManifest().catch(() => undefined);
  if (!manifest) return 'off (models/manifest.json cannot be read)';
  const missing = manifest.models.filter((m) => m.required && !existsSync(`${modelsDir}/${m.file}`)).map((m) => m.name);
  return missing.length === 0
    ? `on (models found in ${modelsDir}; checked once the server loads)`
    : `off: ${missing.join(', ')} missing in ${modelsDir} (run node scripts/fetch-models.ts ${modelsDir})`;
}

async function main() {
  const { loadConfig } = await import('./config/index.ts');
  const config = loadConfig();
  const production = config.env === 'production';
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const pglite = config.database.kind === 'pglite' ? config.database : undefined;
  const firstStart = pglite !== undefined && !pglite.dataDir.startsWith('memory://') && !existsSync(pglite.dataDir);
  if (!production) {
    say(`  · address: ${config.publicUrl} (its links follow once it is ready)`);
    say(`  · database: ${pglite ? `embedded PostgreSQL (PGlite) in ${pglite.dataDir}` : 'PostgreSQL'}${firstStart ? ' (first start: creating the database, this takes a little while)' : ''}`);
  }
  if (!production) say(`  · face factor: ${await faceOutlook(config.modelsDir)}`);
  const { startTracing } = await import('./observability/tracing.ts');
  const tracing = startTracing({ serviceName: 'facet', ...(config.otelEndpoint ? { endpoint: config.otelEndpoint } : {}) });
  const { createLogger } = await import('./observability/logger.ts');
  const pretty = production || config.env === 'test' ? undefined : await prettyStream();
  const logger = createLogger({ level: config.logLevel, ...(pretty ? { destination: pretty } : {}) });
  const steps: Record<string, string> = {
    loading: 'loading the server',
    database: pglite ? (firstStart ? 'creating the embedded database' : 'opening the embedded database') : 'connecting to PostgreSQL',
    migrations: 'bringing the schemas up to date',
    tenants: `applying the tenant files in ${config.tenantsDir}/`,
    services: 'starting services (rate limits, jobs, face models)',
    listen: `listening on ${config.host}:${config.port}`,
  };
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  // A step that waits long (a slow PostgreSQL) says every 5 s that it is still going. PGlite's
  // first-start initdb blocks the event loop, so that step shows its start line only.
  let current = 'loading';
  let stepStarted = Date.now();
  let told = Date.now();
  const heartbeat = production
    ? undefined
    : setInterval(() => {
        if (Date.now() - Math.max(stepStarted, told) < 5_000) return;
        told = Date.now();
        say(`    … still ${steps[current] ?? current}  (${elapsed()})`);
      }, 1_000);
  heartbeat?.unref();
  const progress = (step: string) => {
    current = step;
    stepStarted = Date.now();
    if (production) logger.info({ step }, 'starting');
    else say(`  · ${steps[step] ?? step}  (${elapsed()})`);
  };
  progress('loading');
  const { startFacet } = await import('./server.ts');
  const running = await startFacet(config, { logger, onProgress: progress }).finally(() => clearInterval(heartbeat));
  const base = config.publicUrl;
  logger.info({ url: base, database: config.database.kind }, 'facet is running');
  // Development: while demo has no admin, a single-use link that makes the next passkey sign-up its admin.
  const { firstAdminLink } = await import('./console/first-admin.ts');
  const firstAdmin = await firstAdminLink(running.database.db, config).catch(() => undefined);
  const face = running.services.face.status();
  say(
    [
      '',
      `  Facet is running on ${running.url} (database: ${pglite ? `embedded PGlite in ${pglite.dataDir}` : 'PostgreSQL'})`,
      `  Try it:          ${base}/t/demo/account  (sign up with a passkey, then manage it)`,
      `  Demo app:        ${DEMO_RP_URL}  (start it in a second terminal: npm run demo-rp; it signs in through Facet and shows the ID token)`,
      `  Demo discovery:  ${base}/t/demo/.well-known/openid-configuration`,
      `  Console:         ${base}/t/demo/console`,
      ...(firstAdmin ? [`  First admin:     ${firstAdmin}`, '                   (single use: the next passkey sign-up with this link becomes demo\'s admin)'] : []),
      `  Face factor:     ${face.available ? `on (model ${face.model})` : `off: ${face.reason} (see README, Face engine)`}`,
      `  Health:          ${base}/health   Ready: ${base}/ready`,
      '',
    ].join('\n'),
  );
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      async () => {
        await tracing.shutdown();
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** Human-readable log lines for development (secrets are redacted before they reach it). */
async function prettyStream() {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ sync: true, singleLine: true, colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' });
}

main().catch((error) => {
  if (error?.name === 'ConfigError' || error?.code) {
    process.stderr.write(`facet: ${error.message}\n`);
  } else {
    process.stderr.write(`facet: failed to start: ${error?.stack ?? error}\n`);
  }
  process.exit(1);
});
