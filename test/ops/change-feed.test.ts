// The tenant change feed (src/tenancy/change-feed.ts) across a PostgreSQL restart: on its own
// throwaway cluster, a listener hears a notification, survives the restart (no crash, no unhandled
// error), says so with onChange(undefined) once it is listening again — changes made meanwhile were
// not heard — and hears the next notification.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { startPgCluster, type PgCluster } from '../support/pg-cluster.ts';
import { listenForTenantChanges, TENANT_CHANNEL } from '../../src/tenancy/change-feed.ts';
import { recordingLogger } from './helpers.ts';

let cluster: PgCluster;
before(async () => {
  cluster = await startPgCluster();
});
after(async () => cluster?.destroy());

async function notify(slug: string) {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  await client.query('select pg_notify($1, $2)', [TENANT_CHANNEL, slug]);
  await client.end();
}

async function until(check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('the change feed hears notifications, and after a PostgreSQL restart re-checks everything and hears them again', { timeout: 60_000 }, async () => {
  const heard: Array<string | undefined> = [];
  const logger = recordingLogger();
  const feed = listenForTenantChanges({ url: cluster.url, logger, retryMs: 200, onChange: (slug) => heard.push(slug) });
  await feed.ready;
  try {
    await notify('acme');
    await until(() => heard.includes('acme'));
    await cluster.restart();
    await until(() => heard.includes(undefined));
    await notify('globex');
    await until(() => heard.includes('globex'));
    assert.deepEqual(heard, ['acme', undefined, 'globex']);
    assert.ok(logger.entries.some((e) => e.msg === 'tenant change feed reconnected'));
  } finally {
    await feed.close();
  }
});
