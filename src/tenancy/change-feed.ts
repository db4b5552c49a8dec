// Several Facet processes on one database (issue 17, scale-out): when one of them changes a tenant
// (its settings, clients, signing keys, status — everything that bumps config_version), the others
// hear it at once through PostgreSQL LISTEN/NOTIFY and re-check that tenant on its next request,
// instead of waiting for the pool's periodic re-check (which stays as the fallback).
// NOTIFY is transactional: sent inside a transaction, it is delivered when that commits.
import { sql } from 'kysely';
import pg from 'pg';
import type { RootDb } from '../db/client.ts';

export const TENANT_CHANNEL = 'facet_tenant_changed';

/** Tells every process listening that `slug` changed (after the surrounding transaction commits). */
export async function notifyTenantChanged(db: RootDb, slug: string): Promise<void> {
  await sql`select pg_notify(${TENANT_CHANNEL}, ${slug})`.execute(db);
}

interface FeedLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * Listens on a dedicated connection (not one of the pool's). `onChange(slug)` for each change;
 * `onChange(undefined)` after a reconnection, since changes made while the connection was down
 * were not heard. Reconnects every `retryMs` while the database is unreachable.
 */
export function listenForTenantChanges({ url, onChange, logger, retryMs = 1000 }: { url: string; onChange: (slug: string | undefined) => void; logger: FeedLogger; retryMs?: number }) {
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let everConnected = false;
  let warned = false;

  const retry = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
  };

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    client = next;
    next.on('error', () => {});
    next.on('end', () => {
      if (client === next) client = undefined;
      retry();
    });
    next.on('notification', (message) => {
      if (message.channel === TENANT_CHANNEL && message.payload) onChange(message.payload);
    });
    try {
      await next.connect();
      await next.query(`listen ${TENANT_CHANNEL}`);
      if (everConnected) {
        onChange(undefined);
        logger.info({}, 'tenant change feed reconnected');
      }
      everConnected = true;
      warned = false;
    } catch (error) {
      if (!warned) logger.warn({ err: error }, 'tenant change feed: cannot listen (retrying; tenants are re-checked periodically meanwhile)');
      warned = true;
      await next.end().catch(() => {});
      if (client === next) client = undefined;
      retry();
    }
  }

  const started = connect();
  return {
    /** Resolves once the first attempt to listen has succeeded or failed. */
    ready: started,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await started;
      await client?.end().catch(() => {});
    },
  };
}
