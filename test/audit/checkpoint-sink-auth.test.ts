// The HTTP checkpoint sink's bearer token (FACET_AUDIT_CHECKPOINT_TOKEN or _TOKEN_FILE): a local
// receiver that requires it refuses a delivery without it (401, recorded as
// audit.checkpoint_sink_failed, the checkpoint kept pending) and accepts the same checkpoint once
// the token is configured; the token never appears in the trail or the messages. The settings
// refuse a token that cannot be sent, or would be sent in clear in production.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { checkpointTenant, deliverPendingCheckpoints, httpSink } from '../../src/audit/checkpoints.ts';
import { auditSettings } from '../../src/audit/settings.ts';
import { checkpointSinks } from '../../src/jobs/definitions.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const KEK = Buffer.alloc(32, 5).toString('base64url');
const TOKEN = randomBytes(24).toString('base64url');

describe('HTTP checkpoint sink with a bearer token', () => {
  let testDb: TestDatabase;
  let database: Database;
  let tenant: TenantRecord;
  let url: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'facet-sink-auth-'));
  const seen: Array<{ authorization: string | undefined; seq?: number }> = [];
  // A receiver that accepts only `Authorization: Bearer <TOKEN>`, as RFC 6750 describes.
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="checkpoints"' }).end();
        return;
      }
      seen.at(-1)!.seq = (JSON.parse(body) as { seq: number }).seq;
      res.writeHead(204).end();
    });
  });

  before(async () => {
    testDb = await createTestDatabase();
    database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
    await migrateControl(database.db);
    tenant = await createTenant(database.db, { slug: 'sink-auth' }, { kek: KEK });
    await withTenant(database.db, tenant, (trx) => appendAudit(trx, { type: 'passkey.sign_in', subject: 'alice', data: { credential_id: 'c', amr: ['hwk'] } }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/checkpoints`;
  });
  after(async () => {
    server.close();
    await database?.close();
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without the token the receiver refuses (401, recorded, kept pending); with it from the settings the same checkpoint arrives', async () => {
    const made = await checkpointTenant(database.db, tenant, { kek: KEK, issuer: 'http://localhost/t/sink-auth', reason: 'test', sinks: [httpSink(url)] });
    assert.equal(made.delivery.delivered, 0);
    assert.equal(made.delivery.failures.length, 1);
    assert.match(made.delivery.failures[0]!.error, /answered 401: it refused a request without credentials \(set FACET_AUDIT_CHECKPOINT_TOKEN\)/);
    assert.deepEqual(seen.map((s) => s.authorization), [undefined]);

    // The token comes from a mounted secret file (trailing newline and all), through the same wiring as the jobs.
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const settings = auditSettings({ FACET_AUDIT_CHECKPOINT_URL: url, FACET_AUDIT_CHECKPOINT_TOKEN_FILE: tokenFile });
    const sinks = checkpointSinks(settings);
    assert.equal(sinks[0]!.name, url, 'same sink name (cursor) with or without a token');
    assert.deepEqual(await deliverPendingCheckpoints(database.db, tenant, sinks), { delivered: 1, failures: [] });
    assert.deepEqual(seen.at(-1), { authorization: `Bearer ${TOKEN}`, seq: made.seq });

    // A wrong token is refused and said so, without showing either token.
    await checkpointTenant(database.db, tenant, { kek: KEK, issuer: 'http://localhost/t/sink-auth', reason: 'test' });
    const wrong = await deliverPendingCheckpoints(database.db, tenant, checkpointSinks(auditSettings({ FACET_AUDIT_CHECKPOINT_URL: url, FACET_AUDIT_CHECKPOINT_TOKEN: 'not-the-token' })));
    assert.match(wrong.failures[0]!.error, /answered 401: it refused the token in FACET_AUDIT_CHECKPOINT_TOKEN$/);
    assert.ok(!wrong.failures[0]!.error.includes('not-the-token'));
    assert.equal((await deliverPendingCheckpoints(database.db, tenant, checkpointSinks({ ...settings }))).delivered, 1);

    const trail = await withTenant(database.db, tenant, (trx) => trx.selectFrom('audit_events').select(['type', 'data']).execute());
    assert.equal(trail.filter((e) => e.type === 'audit.checkpoint_sink_failed').length, 2);
    assert.equal(trail.filter((e) => e.type === 'audit.checkpoint_delivered').length, 2);
    const text = JSON.stringify(trail);
    assert.ok(!text.includes(TOKEN) && !text.includes('not-the-token'), 'no token in the audit trail');
  });

  test('the settings name what is wrong with a token, never its value', () => {
    const refused = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(() => auditSettings(env), (error: unknown) => {
        assert.match((error as Error).message, pattern);
        assert.ok(!(error as Error).message.includes(TOKEN));
        return true;
      });
    refused({ FACET_AUDIT_CHECKPOINT_TOKEN: TOKEN }, /FACET_AUDIT_CHECKPOINT_TOKEN is set but FACET_AUDIT_CHECKPOINT_URL is not/);
    refused({ FACET_AUDIT_CHECKPOINT_URL: 'https://sink.example/cp', FACET_AUDIT_CHECKPOINT_TOKEN: TOKEN, FACET_AUDIT_CHECKPOINT_TOKEN_FILE: '/x' }, /not both/);
    refused({ FACET_AUDIT_CHECKPOINT_URL: 'https://sink.example/cp', FACET_AUDIT_CHECKPOINT_TOKEN: `${TOKEN} x` }, /is not a bearer token/);
    refused({ FACET_AUDIT_CHECKPOINT_URL: 'https://sink.example/cp', FACET_AUDIT_CHECKPOINT_TOKEN: '  ' }, /FACET_AUDIT_CHECKPOINT_TOKEN is empty/);
    refused({ FACET_AUDIT_CHECKPOINT_URL: 'https://sink.example/cp', FACET_AUDIT_CHECKPOINT_TOKEN_FILE: path.join(dir, 'missing') }, /FACET_AUDIT_CHECKPOINT_TOKEN_FILE \(.*missing\) cannot be read \(ENOENT\)/);
    refused({ NODE_ENV: 'production', FACET_AUDIT_CHECKPOINT_URL: 'http://sink.example/cp', FACET_AUDIT_CHECKPOINT_TOKEN: TOKEN }, /must be https:\/\/ in production when a token is sent/);
    assert.equal(auditSettings({ NODE_ENV: 'production', FACET_AUDIT_CHECKPOINT_URL: 'https://sink.example/cp', FACET_AUDIT_CHECKPOINT_TOKEN: TOKEN }).checkpointToken, TOKEN);
    assert.equal(auditSettings({ FACET_AUDIT_CHECKPOINT_URL: 'http://sink.example/cp' }).checkpointToken, undefined);
  });
});
