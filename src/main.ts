// `npm start`: run Facet. Embedded PGlite unless DATABASE_URL is set; the demo tenant is applied.
// Tracing starts before koa, pg and ioredis are loaded, so their instrumentation can hook in;
// everything else is imported afterwards.
import { loadConfig, ConfigError } from './config/index.ts';
import { startTracing } from './observability/tracing.ts';

async function main() {
  const config = loadConfig();
  const tracing = startTracing({ serviceName: 'facet', ...(config.otelEndpoint ? { endpoint: config.otelEndpoint } : {}) });
  const { startFacet } = await import('./server.ts');
  const { createLogger } = await import('./observability/logger.ts');
  const running = await startFacet(config, { logger: createLogger({ level: config.logLevel }) });
  const { logger } = running;
  const base = config.publicUrl;
  logger.info({ url: base, database: config.database.kind }, 'facet is running');
  // Development: while demo has no admin, a single-use link that makes the next passkey sign-up its admin.
  const { firstAdminLink } = await import('./console/first-admin.ts');
  const firstAdmin = await firstAdminLink(running.database.db, config).catch(() => undefined);
  process.stdout.write(
    [
      '',
      `  Facet is running on ${running.url} (database: ${config.database.kind === 'pglite' ? `embedded PGlite in ${config.database.dataDir}` : 'PostgreSQL'})`,
      `  Try it:          ${base}/t/demo/account  (sign up with a passkey, then manage it)`,
      `  Demo discovery:  ${base}/t/demo/.well-known/openid-configuration`,
      `  Demo sign-in:    ${base}/t/demo/auth?client_id=demo-web&response_type=code&scope=openid&redirect_uri=http://localhost:3001/callback`,
      `  Console:         ${base}/t/demo/console`,
      ...(firstAdmin ? [`  First admin:     ${firstAdmin}`, '                   (single use: the next passkey sign-up with this link becomes demo\'s admin)'] : []),
      `  Health:          ${base}/health   Ready: ${base}/ready`,
      '',
    ].join('\n') + '\n',
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

main().catch((error) => {
  if (error instanceof ConfigError || error?.code) {
    process.stderr.write(`facet: ${error.message}\n`);
  } else {
    process.stderr.write(`facet: failed to start: ${error?.stack ?? error}\n`);
  }
  process.exit(1);
});
