// Signed checkpoints on real PostgreSQL: each signs the previous one; copies go to a directory and
// an HTTP endpoint as they are made; a complete rewrite of the chain by the database owner (every
// hash recomputed, so the chain verifies on its own) is detected against the copies, by the
// library and by `facet audit verify-db`.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit, verifyAuditChain } from '../../src/audit/audit-log.ts';
import { checkpointTenant, directorySink, httpSink, readCheckpointDir, verifyChainAgainstCheckpoints } from '../../src/audit/checkpoints.ts';
import { auditKeySet, CHECKPOINT_TYP, verifyAuditJws } from '../../src/audit/signing.ts';
import { sha256Hex } from '../../src/audit/rows.ts';
import { runCli } from '../../src/cli/main.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const KEK = Buffer.alloc(32, 4).toString('base64url');

describe('signed checkpoints and rewrite detection', () => {
  let testDb: TestDatabase;
  let database: Database;
  let tenant: TenantRecord;
  let sinkDir: string;
  let server: Server;
  const received: Array<Record<string, unknown>> = [];
  let sinkUrl: string;

  before(async () => {
    sinkDir = mkdtempSync(path.join(tmpdir(), 'facet-checkpoints-'));
    testDb = await createTestDatabase('postgres');
    database = await openDatabase({ kind: 'postgres', url: testDb.url! });
    await migrateControl(database.db);
    tenant = await createTenant(database.db, { slug: 'ledger' }, { kek: KEK });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sinkUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/checkpoints`;
  });
  after(async () => {
    server?.close();
    await database?.close();
    await testDb?.drop();
    rmSync(sinkDir, { recursive: true, force: true });
  });

  const append = (n: number) =>
    withTenant(database.db, tenant, async (trx) => {
      for (let i = 0; i < n; i += 1) await appendAudit(trx, { type: 'passkey.sign_in', actor: 'alice', subject: 'alice', data: { credential_id: `c${i}`, amr: ['hwk'] } });
    });
  const checkpoint = (reason = 'scheduled') =>
    checkpointTenant(database.db, tenant, { kek: KEK, issuer: 'http://localhost/t/ledger', reason, skipIfUnchanged: reason === 'scheduled', sinks: [directorySink(sinkDir), httpSink(sinkUrl)] });

  test('each checkpoint signs the head and the previous checkpoint; sinks receive them; unchanged heads are skipped', async () => {
    await append(5);
    const first = await checkpoint();
    const again = await checkpoint();
    assert.equal(again.created, false, 'nothing new: no second checkpoint');
    await append(3);
    const second = await checkpoint();
    assert.equal(second.seq, first.seq + 1);
    const keys = await withTenant(database.db, tenant, (trx) => auditKeySet(trx));
    const { payload } = await verifyAuditJws(second.jws, keys, CHECKPOINT_TYP);
    assert.deepEqual(payload.prev, { seq: first.seq, jws_sha256: sha256Hex(first.jws) });
    assert.equal(payload.event_id, second.eventId);
    const files = readdirSync(path.join(sinkDir, 'ledger')).sort();
    assert.deepEqual(files, ['checkpoint-0000000001.jws', 'checkpoint-0000000002.jws', 'keys.json']);
    assert.deepEqual(received.map((r) => r.seq), [1, 2]);
    assert.equal(received[1]!.jws, second.jws);
    // Checkpoints are append-only for everyone, the owner included.
    await assert.rejects(sql`update ${sql.table(`${tenant.schema}.audit_checkpoints`)} set event_hash = 'x'`.execute(database.db), /append-only/);
    const copies = await readCheckpointDir(path.join(sinkDir, 'ledger'));
    const intact = await withTenant(database.db, tenant, (trx) => verifyChainAgainstCheckpoints(trx, { slug: 'ledger', checkpoints: copies.jws, keys }));
    assert.equal(intact.checkpoints, 2);
    assert.deepEqual(intact.problems, []);
  });

  test('a complete rewrite by the database owner passes the chain check but not the checkpoints held elsewhere', async () => {
    await append(2);
    await checkpoint();
    const schema = tenant.schema;
    // The owner disables the guard, edits a row and recomputes every hash after it.
    await database.db.transaction().execute(async (trx) => {
      await sql.raw(`alter table ${schema}.audit_events disable trigger audit_events_no_update`).execute(trx);
      await sql.raw(`update ${schema}.audit_events set actor = 'mallory' where id = (select id from ${schema}.audit_events order by id offset 3 limit 1)`).execute(trx);
      await sql.raw(`
        do $$ declare r record; prev text := repeat('0', 64); begin
          for r in select id from ${schema}.audit_events order by id loop
            update ${schema}.audit_events e set prev_hash = prev,
              hash = encode(sha256(convert_to(prev || ${schema}.audit_event_digest_input(e), 'UTF8')), 'hex')
            where e.id = r.id returning e.hash into prev;
          end loop;
        end $$`).execute(trx);
      await sql.raw(`alter table ${schema}.audit_events enable trigger audit_events_no_update`).execute(trx);
    });
    const chain = await withTenant(database.db, tenant, (trx) => verifyAuditChain(trx));
    assert.equal(chain.ok, true, 'the rewritten chain is consistent on its own');

    const external = await readCheckpointDir(path.join(sinkDir, 'ledger'));
    const report = await withTenant(database.db, tenant, (trx) => verifyChainAgainstCheckpoints(trx, { slug: 'ledger', checkpoints: external.jws, keys: external.keys! }));
    assert.equal(report.ok, false);
    assert.match(report.problems.join('\n'), /event \d+ has hash .* but checkpoint 1 signed .* \(the chain was rewritten\)/);

    // The CLI says the same and exits non-zero.
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) } as any;
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = testDb.url;
    try {
      assert.equal(await runCli(['audit', 'verify-db', '--tenant', 'ledger', '--checkpoints', path.join(sinkDir, 'ledger')], sink, sink), 1, out.join(''));
      assert.match(out.join(''), /FAIL event \d+ has hash/);
      assert.match(out.join(''), /REJECTED/);
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });

  test('a checkpoint missing from the directory is reported; a forged one does not verify', async () => {
    const dir = path.join(sinkDir, 'ledger');
    unlinkSync(path.join(dir, 'checkpoint-0000000002.jws'));
    const external = await readCheckpointDir(dir);
    external.jws.push(`${external.jws[0]!.slice(0, -4)}AAAA`);
    const report = await withTenant(database.db, tenant, (trx) => verifyChainAgainstCheckpoints(trx, { slug: 'ledger', checkpoints: external.jws, keys: external.keys! }));
    assert.match(report.notes.join('\n'), /checkpoints 2…2 are not in the directory/);
    assert.match(report.problems.join('\n'), /does not verify/);
  });
});
