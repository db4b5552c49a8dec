// Starting and stopping the HTTP server, with graceful shutdown: stop accepting, let in-flight
// requests finish within a deadline, close pools.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { createApp, type AppHooks, type FacetApp } from './app.ts';
import { applyTenantDirectory, createBaseLogger, migrateAll, openConfiguredDatabase } from './boot.ts';
import type { Database } from './db/client.ts';
import { createServices, type Services } from './services.ts';
import { installationPrefix } from './tenancy/registry.ts';

export interface RunningFacet {
  server: Server;
  url: string;
  facet: FacetApp;
  database: Database;
  services: Services;
  logger: Logger;
  stop(deadlineMs?: number): Promise<void>;
}

export async function startFacet(
  config: Config,
  { logger = createBaseLogger(config), applyTenants = true, hooks = {} }: { logger?: Logger; applyTenants?: boolean; hooks?: AppHooks } = {},
): Promise<RunningFacet> {
  const database = await openConfiguredDatabase(config);
  const migrations = await migrateAll(database);
  for (const tenant of migrations.tenants) {
    if (tenant.error) logger.error({ tenant: tenant.slug, error: tenant.error }, 'tenant migration failed');
  }
  if (applyTenants) {
    for (const report of await applyTenantDirectory(database, config)) {
      logger.info({ tenant: report.slug, created: report.created, clients: report.clients }, 'tenant file applied');
    }
  }
  const services = await createServices({ config, db: database.db, logger, installation: await installationPrefix(database.db) });
  // Without Redis the housekeeping jobs run here on timers; with Redis, in `facet worker`.
  if (!services.redis && config.env !== 'test') await services.jobs.startWorker();
  // Not awaited: with Redis down, registering the schedules waits for it; serving must not.
  if (services.redis) void services.jobs.schedule().catch((error) => logger.warn({ err: error }, 'could not register job schedules'));
  const facet = createApp({ config, database, logger, services, hooks });
  const server = createServer(facet.handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = (deadlineMs = 10_000) =>
    (stopping ??= (async () => {
      facet.state.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
      await closed;
      clearTimeout(timer);
      facet.pool.clear();
      await services.close();
      await database.close();
    })());
  return { server, url, facet, database, services, logger, stop };
}
