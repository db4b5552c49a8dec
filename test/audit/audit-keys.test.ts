// Audit-signing key rotation (issue 13) over HTTP on real PostgreSQL: an export signed before the
// rotation and one signed after both verify with the key set published after it; the new key signs
// from the rotation on (the old key set does not verify the new export); checkpoints on both sides
// of the rotation verify as one sequence; the rotation is sensitive (admin only) and audited; the
// CLI rotates too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { createTestDatabase, realPostgresUrl, type TestDatabase } from '../support/database.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { untypedTables } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import { auditKeyBinding, auditKeySet, listAuditKeys, rotateAuditKey } from '../../src/audit/signing.ts';
import { openWithKek } from '../../src/keys/key-encryption.ts';
import { loadSigningJwks } from '../../src/keys/signing-keys.ts';
import { sealClientSecret, secretBinding } from '../../src/oidc/clients.ts';
import { adminAccessToken } from '../support/admin-client.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { verifyExport } from '../../src/audit/verify-export.ts';
import { AUDIT_KEYS_ROUTE } from '../../src/admin/audit-api.ts';
import { checkpointTenant, listCheckpoints, verifyChainAgainstCheckpoints } from '../../src/audit/checkpoints.ts';
import { runCli } from '../../src/cli/main.ts';
import { isSensitive, mayCall, routeKey, scopeFor } from '../../src/admin/permissions.ts';

describe('audit-signing key rotation', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let dir: string;
  let bearer: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'facet-audit-keys-'));
    facet = await startTestFacet({ database: 'postgres', env: { FACET_AUDIT_EXPORT_DIR: path.join(dir, 'exports') } });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    bearer = await adminAccessToken(facet.baseUrl);
    await withTenant(facet.database.db, demo, async (trx) => {
      for (let i = 0; i < 10; i += 1) await appendAudit(trx, { type: 'passkey.sign_in', subject: `u${i}`, ip: '192.0.2.7', data: { credential_id: `c${i}`, amr: ['hwk'] } });
    });
  });
  after(async () => {
    await facet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (url: string, init: RequestInit = {}) => fetch(`${facet.baseUrl}/t/demo${url}`, { ...init, headers: { authorization: `Bearer ${bearer}`, ...(init.headers ?? {}) } });
  const json = async (response: Response) => (await response.json()) as any;
  const keySet = async () => (await (await fetch(`${facet.baseUrl}/t/demo/audit/keys.json`)).json()) as { keys: Array<{ kid: string }> };

  async function exportArchive(name: string): Promise<{ file: string; kid: string }> {
    const started = await call('/admin/api/audit/exports', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 'jsonl', filters: {} }) });
    assert.equal(started.status, 202);
    const { id } = await json(started);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await json(await call(`/admin/api/audit/exports/${id}`));
      if (status.status === 'done') break;
      assert.notEqual(status.status, 'failed', status.error);
      assert.ok(Date.now() < deadline, 'export did not finish');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const download = await call(`/admin/api/audit/exports/${id}/download`);
    assert.equal(download.status, 200);
    const archive = Buffer.from(await download.arrayBuffer());
    const file = path.join(dir, `${name}.tar`);
    writeFileSync(file, archive);
    const manifest = archive.subarray(512, archive.indexOf(0, 512)).toString('utf8').trim();
    return { file, kid: decodeProtectedHeader(manifest).kid! };
  }

  test('rotate: the new key signs; exports and checkpoints from before still verify with the published set', async () => {
    const before = await exportArchive('before');
    const oldSet = await keySet();
    // The public key set is a declared route: its answer matches the declared JWKS schema (public
    // halves only), with the cache header.
    const published = await fetch(`${facet.baseUrl}/t/demo/audit/keys.json`);
    assert.equal(published.status, 200);
    assert.equal(published.headers.get('cache-control'), 'public, max-age=300');
    const parsed = AUDIT_KEYS_ROUTE.responses[200].schema.safeParse(await published.json());
    assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
    assert.equal(AUDIT_KEYS_ROUTE.responses[200].schema.safeParse({ keys: [{ ...oldSet.keys[0], d: 'private' }] }).success, false, 'a private part breaks the declared answer');
    assert.deepEqual(oldSet.keys.map((k) => k.kid), [before.kid]);

    const rotated = await call('/admin/api/keys/audit-signing/rotate', { method: 'POST' });
    assert.equal(rotated.status, 200);
    const { created, retired } = await json(rotated);
    assert.deepEqual(retired, [before.kid]);
    assert.notEqual(created, before.kid);
    const listed = await json(await call('/admin/api/keys/audit-signing'));
    assert.deepEqual(listed.keys.map((k: any) => [k.kid, k.status]), [[created, 'active'], [before.kid, 'retired']]);

    const afterRotation = await exportArchive('after');
    assert.equal(afterRotation.kid, created, 'the new key signs from the rotation on');
    const newSet = await keySet();
    assert.deepEqual(newSet.keys.map((k) => k.kid).sort(), [before.kid, created].sort(), 'the retired key stays published');

    for (const archive of [before, afterRotation]) {
      const verdict = await verifyExport(archive.file, { keys: newSet });
      assert.deepEqual(verdict.problems, [], archive.file);
      assert.equal(verdict.ok, true);
    }
    // The key set pinned before the rotation does not know the new key: the new export fails with it.
    const stale = await verifyExport(afterRotation.file, { keys: oldSet });
    assert.equal(stale.ok, false);
    // The CLI, pinning the published set by URL.
    const out: string[] = [];
    const sink = { write: (s: string) => (out.push(s), true) } as any;
    assert.equal(await runCli(['audit', 'verify', before.file, '--jwks', `${facet.baseUrl}/t/demo/audit/keys.json`], sink, sink), 0, out.join(''));

    // Checkpoints on both sides of the rotation verify as one linked sequence with the new set.
    const cp = await checkpointTenant(facet.database.db, demo, { kek: facet.config.kek, issuer: `${facet.baseUrl}/t/demo`, reason: 'test' });
    assert.equal(decodeProtectedHeader(cp.jws).kid, created);
    const report = await withTenant(facet.database.db, demo, async (trx) => {
      const all = (await listCheckpoints(trx, { limit: 1000 })).map((c) => c.jws);
      assert.ok(all.some((jws) => decodeProtectedHeader(jws).kid === before.kid), 'a checkpoint signed by the old key exists');
      return verifyChainAgainstCheckpoints(trx, { slug: 'demo', checkpoints: all, keys: newSet });
    });
    assert.deepEqual(report.problems, []);

    // Audited, in the chain.
    const events = await json(await call('/admin/api/audit/events?type=audit.key_rotated'));
    assert.equal(events.events.length, 1);
    assert.deepEqual(events.events[0].data, { created, retired: [before.kid] });
  });

  test('rotation is an admin-only sensitive write with admin:write scope; auditors may list the keys', async () => {
    // Over HTTP: a machine token with only audit:read may list the keys but not rotate them.
    const reader = `Bearer ${await adminAccessToken(facet.baseUrl, { scope: 'audit:read' })}`;
    const refused = await fetch(`${facet.baseUrl}/t/demo/admin/api/keys/audit-signing/rotate`, { method: 'POST', headers: { authorization: reader } });
    assert.equal(refused.status, 403);
    assert.match(JSON.stringify(await refused.json()), /admin:write/, 'the problem names the scope it needs');
    const rotate = routeKey('POST', '/t/:tenant/admin/api/keys/audit-signing/rotate');
    assert.equal(rotate, 'POST /keys/audit-signing/rotate');
    assert.equal(mayCall(['auditor'], rotate), false);
    assert.equal(mayCall(['helpdesk'], rotate), false);
    assert.equal(mayCall(['admin'], rotate), true);
    assert.equal(scopeFor(rotate), 'admin:write');
    assert.equal(isSensitive(rotate), true, 'a fresh step-up in the console');
    assert.equal(mayCall(['auditor'], 'GET /keys/audit-signing'), true);
  });

  test('facet audit rotate-key rotates from the command line', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, facet.testDb.env, { PUBLIC_URL: facet.baseUrl, NODE_ENV: 'test' });
    try {
      const out: string[] = [];
      const sink = { write: (s: string) => (out.push(s), true) } as any;
      const active = (await json(await call('/admin/api/keys/audit-signing'))).keys.find((k: any) => k.status === 'active').kid;
      assert.equal(await runCli(['audit', 'rotate-key', '--tenant', 'demo'], sink, sink), 0, out.join(''));
      assert.match(out.join(''), new RegExp(`retired ${active}`));
      const keys = (await json(await call('/admin/api/keys/audit-signing'))).keys;
      assert.equal(keys.filter((k: any) => k.status === 'active').length, 1);
      assert.notEqual(keys.find((k: any) => k.status === 'active').kid, active);
      assert.equal((await keySet()).keys.length, 3);
      const missing: string[] = [];
      const sink2 = { write: (s: string) => (missing.push(s), true) } as any;
      assert.notEqual(await runCli(['audit', 'rotate-key'], sink2, sink2), 0);
      assert.match(missing.join(''), /--tenant/);
    } finally {
      process.env = saved;
    }
  });
});

// `facet keys rekey --purpose kek`: FACET_KEK becomes "<new>,<old>"; the audit-signing private keys
// (the active and the retired one), the token signing keys and console client secrets are re-sealed
// under the new key; with the old key gone, the tenant still signs checkpoints with its audit key
// (same kid) and everything still opens. Real PostgreSQL, the CLI as a child process.
describe('facet keys rekey re-seals the audit-signing keys', { skip: realPostgresUrl ? false : 'needs DATABASE_URL' }, () => {
  const OLD = randomBytes(32).toString('base64url');
  const NEW = randomBytes(32).toString('base64url');
  let testDb: TestDatabase;
  let database: Database;
  let tenant: TenantRecord;

  before(async () => {
    testDb = await createTestDatabase('postgres');
    database = await openDatabase({ kind: 'postgres', url: testDb.url! });
    await migrateControl(database.db);
    tenant = await createTenant(database.db, { slug: 'vault' }, { kek: OLD });
    await withTenant(database.db, tenant, async (trx) => {
      await appendAudit(trx, { type: 'passkey.sign_in', subject: 'alice', data: { credential_id: 'c', amr: ['hwk'] } });
      await untypedTables(trx).insertInto('clients').values({ client_id: 'svc', metadata: JSON.stringify({ client_id: 'svc' }), source: 'admin', secret_sealed: sealClientSecret(OLD, 'vault', 'svc', 'the-client-secret') }).execute();
    });
    await checkpointTenant(database.db, tenant, { kek: OLD, issuer: 'http://localhost/t/vault', reason: 'test' });
    await withTenant(database.db, tenant, (trx) => rotateAuditKey(trx, { kek: OLD, slug: 'vault', actor: 'test' }));
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });

  const cli = (kek: string, ...args: string[]) => {
    const result = spawnSync(process.execPath, [path.join(projectRoot, 'bin/facet.js'), ...args], {
      env: { ...process.env, ...testDb.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', FACET_KEK: kek, FACET_TENANTS_DIR: mkdtempSync(path.join(tmpdir(), 'facet-no-tenants-')) },
      encoding: 'utf8',
      cwd: projectRoot,
    });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
  const sign = (kek: string) => checkpointTenant(database.db, tenant, { kek, issuer: 'http://localhost/t/vault', reason: 'test' });

  test('rekey, then the new key alone opens and signs', async () => {
    const activeKid = (await withTenant(database.db, tenant, (trx) => listAuditKeys(trx))).find((k) => k.status === 'active')!.kid;
    // Before: the new key alone cannot open what the old one sealed.
    await assert.rejects(sign(NEW), /FACET_KEK differs/);

    const run = cli(`${NEW},${OLD}`, 'keys', 'rekey', '--purpose', 'kek');
    assert.equal(run.code, 0, run.err + run.out);
    assert.match(run.out, /tenant vault: kek audit_signing_keys: 2 re-encrypted, 0 already current/);
    assert.match(run.out, /tenant vault: kek signing_keys: 2 re-encrypted, 0 already current/);
    assert.match(run.out, /tenant vault: kek clients: 1 re-encrypted, 0 already current/);
    assert.match(run.out, /kek: everything is under the first key of FACET_KEK \(kek-[0-9a-f]{12}\)/);
    const again = cli(`${NEW},${OLD}`, 'keys', 'rekey', '--purpose', 'kek');
    assert.match(again.out, /tenant vault: kek audit_signing_keys: 0 re-encrypted, 2 already current/);

    // The old key removed: the audit key (same kid) signs, and the checkpoints verify with the published set.
    await assert.rejects(sign(OLD), /FACET_KEK differs/);
    const checkpoint = await sign(NEW);
    assert.equal(checkpoint.created, true);
    assert.equal(decodeProtectedHeader(checkpoint.jws).kid, activeKid);
    const report = await withTenant(database.db, tenant, async (trx) =>
      verifyChainAgainstCheckpoints(trx, { slug: 'vault', checkpoints: (await listCheckpoints(trx, { limit: 100 })).map((c) => c.jws), keys: await auditKeySet(trx) }),
    );
    assert.deepEqual(report.problems, []);
    // The retired audit key, the token keys and the client secret open with the new key alone.
    await withTenant(database.db, tenant, async (trx) => {
      const retired = (await sql<{ kid: string; private_jwk_encrypted: string }>`select kid, private_jwk_encrypted from audit_signing_keys where status = 'retired'`.execute(trx)).rows[0]!;
      assert.equal((JSON.parse(openWithKek(NEW, retired.private_jwk_encrypted, auditKeyBinding('vault', retired.kid))) as { kid: string }).kid, retired.kid);
      assert.equal((await loadSigningJwks(trx, { kek: NEW, slug: 'vault' })).length, 2);
      const client = await trx.selectFrom('clients').select('secret_sealed').where('client_id', '=', 'svc').executeTakeFirstOrThrow();
      assert.equal(openWithKek(NEW, client.secret_sealed!, secretBinding('vault', 'svc')), 'the-client-secret');
    });
    // Audited.
    const rekeyed = await withTenant(database.db, tenant, async (trx) => (await sql<{ data: any }>`select data from audit_events where type = 'keys.rekeyed' order by id`.execute(trx)).rows);
    assert.deepEqual(rekeyed[0]!.data.purposes, ['kek']);
  });
});
