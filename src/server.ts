// Starting and stopping the HTTP server, with graceful shutdown: stop accepting, let in-flight
// requests finish (exiting as soon as they have, within a deadline), close pools.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { createApp, type AppHooks, type FacetApp } from './app.ts';
import { applyTenantDirectory, createBaseLogger, migrateAll, openConfiguredDatabase } from './boot.ts';
import type { Database } from './db/client.ts';
import { createServices, type Services } from './services.ts';
import { installationPrefix, listTenants } from './tenancy/registry.ts';
import { listenForTenantChanges, TENANT_CHANNEL } from './tenancy/change-feed.ts';
import { staticAdminTokenLeftovers } from './admin/legacy-admin-token.ts';

export interface RunningFacet {
  server: Server;
  url: string;
  facet: FacetApp;
  database: Database;
  services: Services;
  logger: Logger;
  stop(deadlineMs?: number): Promise<void>;
}

/** The steps of a start, in order. */
export type StartStep = 'database' | 'migrations' | 'tenants' | 'services' | 'listen';

export async function startFacet(
  config: Config,
  {
    logger = createBaseLogger(config),
    applyTenants = true,
    hooks = {},
    onProgress = () => {},
  }: { logger?: Logger; applyTenants?: boolean; hooks?: AppHooks; /** Told as each start step begins (`npm start` prints them). */ onProgress?: (step: StartStep) => void } = {},
): Promise<RunningFacet> {
  onProgress('database');
  const database = await openConfiguredDatabase(config);
  onProgress('migrations');
  const migrations = await migrateAll(database);
  for (const tenant of migrations.tenants) {
    if (tenant.error) logger.error({ tenant: tenant.slug, error: tenant.error }, 'tenant migration failed');
  }
  if (applyTenants) {
    onProgress('tenants');
    for (const report of await applyTenantDirectory(database, config)) {
      logger.info({ tenant: report.slug, created: report.created, clients: report.clients }, 'tenant file applied');
    }
  }
  const tenantsAtBoot = await listTenants(database.db);
  for (const message of staticAdminTokenLeftovers(tenantsAtBoot, process.env)) logger.error({ code: 'static_admin_token_gone' }, message);
  if (config.operatorTenant && !tenantsAtBoot.some((t) => t.slug === config.operatorTenant && t.status === 'active')) {
    logger.error({ code: 'operator_tenant_missing' }, `FACET_OPERATOR_TENANT=${config.operatorTenant} names no active tenant: /console answers 503 until that tenant exists (apply its tenant file) and is active`);
  }
  onProgress('services');
  const services = await createServices({ config, db: database.db, logger, installation: await installationPrefix(database.db) });
  // Without Redis the housekeeping jobs run here on timers; with Redis, in `facet worker`.
  if (!services.redis && config.env !== 'test') await services.jobs.startWorker();
  // Not awaited: with Redis down, registering the schedules waits for it; serving must not.
  if (services.redis) void services.jobs.schedule().catch((error) => logger.warn({ err: error }, 'could not register job schedules'));
  const facet = createApp({ config, database, logger, services, hooks });
  // Tenant changes made by other processes on the same PostgreSQL (keys, tenant files, policies).
  const changeFeed =
    config.database.kind === 'postgres' ? listenForTenantChanges({ url: config.database.url, logger, onChange: (slug) => facet.pool.expire(slug) }) : undefined;
  // Embedded PGlite is a single process: its own NOTIFYs expire the pool entry at once (a colour,
  // a client secret or a policy changed in the console applies to the next request, not 2 s later).
  await database.listen?.(TENANT_CHANNEL, (slug) => facet.pool.expire(slug));
  // What a graceful stop needs to know: the responses still to be written, and for each connection
  // whether a request is running on it and since when it has been idle.
  const open = new Set<ServerResponse>();
  const connections = new Map<Socket, { busy: number; idleSince: number; bytesAtIdle: number }>();
  const server = createServer((req, res) => {
    if (facet.state.draining) res.setHeader('Connection', 'close');
    const connection = connections.get(req.socket);
    if (connection) connection.busy += 1;
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      if (connection) {
        connection.busy -= 1;
        connection.idleSince = Date.now();
        connection.bytesAtIdle = req.socket.bytesRead;
      }
    });
    facet.handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { busy: 0, idleSince: Date.now(), bytesAtIdle: 0 });
    socket.once('close', () => connections.delete(socket));
  });
  server.keepAliveTimeout = 5000;
  onProgress('listen');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;

  // Graceful stop. At once: /ready answers 503, the listening socket closes (new connections are
  // refused), and every response not yet started carries `Connection: close`, so its socket closes
  // once it is sent. Idle keep-alive sockets (nothing running, nothing received since the last
  // response) are closed once idle for IDLE_GRACE_MS: closing one the instant its last response
  // went out races the client's next request on it (a reset); a request that does arrive is
  // answered, with `Connection: close`. The server is closed as
  // soon as the last connection is; `deadlineMs` only caps the wait.
  const IDLE_GRACE_MS = 100;
  let stopping: Promise<void> | undefined;
  const stop = (deadlineMs = 10_000) =>
    (stopping ??= (async () => {
      facet.state.draining = true;
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
      // net.Server's close: stop listening, call back when the last connection has ended. (http's
      // own close() would also destroy every idle socket at once, racing requests on their way.)
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      const closeIdle = () => {
        const now = Date.now();
        for (const [socket, connection] of connections) {
          // Bytes read since the last response: a request is arriving (maybe slowly); not idle.
          if (connection.busy === 0 && now - connection.idleSince >= IDLE_GRACE_MS && socket.bytesRead === connection.bytesAtIdle) socket.destroy();
        }
      };
      // Decided in the check phase, right after the event loop has read what arrived: a request
      // that came in while the loop was busy counts (bytesRead moved) before its socket is judged.
      setImmediate(closeIdle);
      const sweep = setInterval(() => setImmediate(closeIdle), 20);
      const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
      await closed;
      clearInterval(sweep);
      clearTimeout(timer);
      // http's close() on the closed server only stops its connection-check timer.
      server.close(() => {});
      facet.pool.clear();
      await changeFeed?.close();
      await services.close();
      await database.close();
    })());
  return { server, url, facet, database, services, logger, stop };
}
