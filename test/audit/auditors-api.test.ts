// Issue 13 over HTTP on real PostgreSQL and the embedded PGlite: search with filters and a cursor
// that stays right while others append, an export job (inline runner) with progress, a download
// that expires, offline verification of the archive against the published key set, tenant
// isolation, the routes in the OpenAPI document and the auditor role's reach.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { parseTenantFile } from '../../src/tenancy/tenant-file.ts';
import { adminAccessToken } from '../support/admin-client.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { verifyExport } from '../../src/audit/verify-export.ts';
import { runCli } from '../../src/cli/main.ts';
import { backends } from '../support/backends.ts';
import { mayCall, routeKey } from '../../src/admin/permissions.ts';

let TOKEN = '';
let OTHER_TOKEN = '';
const OTHER_TENANT = `
slug: other
name: Other
clients:
  - client_id: other-auditor
    grant_types: [client_credentials]
    secret: { env: OTHER_AUDITOR_SECRET, dev: other-auditor-dev-secret-1111 }
    admin_scopes: [audit:read]
`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const backend of backends) describe(`auditors: search, exports, verification on ${backend}`, () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let api: string;
  let exportDir: string;
  const subject = '00000000-0000-4000-8000-0000000000a1';

  before(async () => {
    exportDir = mkdtempSync(path.join(tmpdir(), 'facet-audit-exports-'));
    facet = await startTestFacet({ database: backend, env: { FACET_AUDIT_EXPORT_DIR: exportDir } });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    api = `${facet.baseUrl}/t/demo/admin/api/audit`;
    await applyTenantFile(facet.database.db, parseTenantFile(OTHER_TENANT), { kek: facet.config.kek, production: false });
    TOKEN = await adminAccessToken(facet.baseUrl);
    OTHER_TOKEN = await adminAccessToken(facet.baseUrl, { slug: 'other', clientId: 'other-auditor', secret: 'other-auditor-dev-secret-1111', scope: 'audit:read' });
    await withTenant(facet.database.db, demo, async (trx) => {
      for (let i = 0; i < 30; i += 1) {
        await appendAudit(trx, { type: 'passkey.sign_in', actor: subject, subject, clientId: 'web', ip: '203.0.113.9', data: { credential_id: `cred-${i}`, amr: ['hwk'], flow: 'sign-in' } });
        await appendAudit(trx, { type: 'factor.otp.failed', subject, clientId: 'web', ip: '198.51.100.4', data: { reason: 'invalid_code', flow: 'step-up' } });
      }
      await appendAudit(trx, { type: 'recovery_codes.issued' as 'recovery_code.issued', actor: subject, subject, data: { count: 10 } });
    });
  });
  after(async () => {
    await facet?.close();
    rmSync(exportDir, { recursive: true, force: true });
  });

  const call = async (url: string, init: RequestInit = {}, token: string | null = TOKEN): Promise<Response> => {
    const send = () => fetch(url.startsWith('http') ? url : `${api}${url}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) } });
    try {
      return await send();
    } catch (error) {
      // A GET on a kept-alive connection the server closed at that moment (its 5 s idle timer
      // fires late when PGlite has held the event loop, as the writers below do) is sent again,
      // as browsers and HTTP clients do for an idempotent request; anything else is a failure.
      const code = ((error as { cause?: { code?: string } }).cause ?? {}).code;
      if ((init.method ?? 'GET') !== 'GET' || code !== 'ECONNRESET') throw error;
      return send();
    }
  };
  const json = async (response: Response) => (await response.json()) as any;

  test('filters: type, category, outcome, subject, client, IP, time range; legacy spellings found', async () => {
    const byType = await json(await call('/events?type=passkey.sign_in&limit=1000'));
    assert.equal(byType.events.length, 30);
    assert.ok(byType.events.every((e: any) => e.type === 'passkey.sign_in' && e.category === 'authentication' && e.outcome === 'success'));
    const failures = await json(await call(`/events?outcome=failure&subject=${subject}&limit=1000`));
    assert.equal(failures.events.length, 30);
    assert.ok(failures.events.every((e: any) => e.type === 'factor.otp.failed'));
    assert.equal((await json(await call('/events?ip=198.51.100.4&client=web&limit=1000'))).events.length, 30);
    assert.equal((await json(await call('/events?category=account_change&limit=1000'))).events.filter((e: any) => e.type === 'recovery_codes.issued').length, 1);
    assert.equal((await json(await call('/events?type=recovery_code.issued'))).events.length, 0, 'a type names one spelling');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await json(await call(`/events?since=${encodeURIComponent(future)}`))).events.length, 0);
    const all = await json(await call(`/events?until=${encodeURIComponent(future)}&limit=1000`));
    assert.ok(all.events.length >= 61);
    // The raw row with its chain hashes, by id.
    const one = await json(await call(`/events/${byType.events[0].id}`));
    assert.equal(one.hash, byType.events[0].hash);
    assert.equal((await call('/events/999999999')).status, 404);
  });

  test('bad filters and cursors are specific 400 problems', async () => {
    for (const [query, pattern] of [
      ['type=no.such.type', /catalogue/],
      ['category=nonsense', /category/],
      ['since=yesterday', /since/],
      ['limit=0', /limit/],
      ['colour=blue', /colour/],
      ['after=bm9wZQ', /cursor/],
    ] as const) {
      const response = await call(`/events?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      assert.match((await json(response)).detail, pattern, query);
    }
    const page = await json(await call('/events?order=asc&limit=5'));
    const reused = await call(`/events?order=asc&limit=5&type=passkey.sign_in&after=${page.next}`);
    assert.equal(reused.status, 400);
    assert.match((await json(reused)).detail, /other filters/);
  });

  test('polling with the cursor neither skips nor repeats while others append', async () => {
    const seen: string[] = [];
    let cursor = (await json(await call('/events?order=asc&limit=1000'))).next as string;
    const before = await withTenant(facet.database.db, demo, async (trx) => (await sql<{ n: string }>`select max(id)::text as n from audit_events`.execute(trx)).rows[0]!.n);
    let writing = true;
    const writers = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 40; i += 1) {
          await withTenant(facet.database.db, demo, (trx) => appendAudit(trx, { type: 'token.issued', clientId: `w${w}`, data: { kinds: ['access_token'], grant_type: 'client_credentials' } }));
        }
      }),
    ).finally(() => (writing = false));
    while (writing) {
      const page = await json(await call(`/events?order=asc&limit=7&after=${cursor}`));
      for (const e of page.events) seen.push(e.id);
      cursor = page.next;
    }
    await writers;
    for (;;) {
      const page = await json(await call(`/events?order=asc&limit=50&after=${cursor}`));
      if (page.events.length === 0) break;
      for (const e of page.events) seen.push(e.id);
      cursor = page.next;
    }
    const expected = await withTenant(facet.database.db, demo, async (trx) => (await sql<{ id: string }>`select e.id::text as id from audit_events e where e.id > ${before}::bigint order by e.id`.execute(trx)).rows.map((r) => r.id));
    assert.ok(expected.length >= 160);
    assert.deepEqual(seen, expected);
    // Newest first pages backwards and ends.
    let pages = 0;
    let next: string | null = null;
    const ids: string[] = [];
    do {
      const page: any = await json(await call(`/events?type=token.issued&limit=60${next ? `&after=${next}` : ''}`));
      ids.push(...page.events.map((e: any) => e.id));
      next = page.next;
      pages += 1;
    } while (next);
    assert.equal(pages, 3);
    assert.equal(ids.length, 160);
    assert.deepEqual(ids, [...ids].sort((a, b) => Number(b) - Number(a)));
  });

  test('an export runs as a job, shows progress, downloads, verifies against the published keys; tampering is named', async () => {
    const created = await call('/exports', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 'jsonl', filters: {} }) });
    assert.equal(created.status, 202);
    const { id } = await json(created);
    const done = await waitFor('the export', async () => {
      const status = await json(await call(`/exports/${id}`));
      assert.ok(status.progress === null || (status.progress >= 0 && status.progress <= 100));
      return status.status === 'done' ? status : status.status === 'failed' ? assert.fail(status.error) : undefined;
    });
    assert.equal(done.progress, 100);
    assert.ok(done.rows_written >= 61, JSON.stringify(done));
    const download = await call(`/exports/${id}/download`);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/x-tar');
    const archive = Buffer.from(await download.arrayBuffer());
    const dir = mkdtempSync(path.join(tmpdir(), 'facet-verify-'));
    try {
      const file = path.join(dir, 'export.tar');
      writeFileSync(file, archive);
      // The key set auditors pin: public, no token.
      const keysResponse = await fetch(`${facet.baseUrl}/t/demo/audit/keys.json`);
      assert.equal(keysResponse.status, 200);
      const keys = await keysResponse.json();
      const verdict = await verifyExport(file, { keys: keys as any });
      assert.deepEqual(verdict.problems, []);
      assert.equal(verdict.ok, true);
      assert.equal(verdict.manifest!.complete, true);
      assert.equal(verdict.manifest!.tenant, 'demo');
      assert.equal(verdict.manifest!.rows, done.rows_written);
      // The CLI, with the key set from its URL.
      const out: string[] = [];
      const sink = { write: (s: string) => out.push(s) } as any;
      assert.equal(await runCli(['audit', 'verify', file, '--jwks', `${facet.baseUrl}/t/demo/audit/keys.json`], sink, sink), 0, out.join(''));
      assert.match(out.join(''), /OK: signature, digest and all \d+ rows verified; the chain is continuous/);
      // One byte changed in a data line: rejected, naming that line.
      const text = archive.toString('latin1');
      const start = archive.indexOf('events.jsonl') + 512;
      const at = text.indexOf('"ip":"203.0.113.9"', start) + 8;
      const lineNumber = text.slice(start, at).split('\n').length;
      assert.ok(lineNumber > 1);
      const tampered = Buffer.from(archive);
      tampered[at] = '4'.charCodeAt(0);
      writeFileSync(file, tampered);
      const out2: string[] = [];
      const sink2 = { write: (s: string) => out2.push(s) } as any;
      assert.equal(await runCli(['audit', 'verify', file, '--jwks', `${facet.baseUrl}/t/demo/audit/keys.json`], sink2, sink2), 1);
      assert.match(out2.join(''), new RegExp(`events\\.jsonl line ${lineNumber}: event \\d+: the row does not match its hash`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The export is itself audited (requested and written).
    const audited = await json(await call('/events?type=audit.export_requested,audit.exported'));
    assert.deepEqual(audited.events.map((e: any) => e.type).sort(), ['audit.export_requested', 'audit.exported']);
    assert.ok(audited.events.every((e: any) => e.data.export_id === id));
    // Each export signs a checkpoint first.
    const checkpoints = await json(await call('/checkpoints'));
    assert.ok(checkpoints.checkpoints.some((c: any) => c.reason === `export ${id}`));
  });

  test('downloads expire; unknown and unfinished exports are specific problems', async () => {
    const { id } = await json(await call('/exports', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 'csv', filters: { type: ['factor.otp.failed'] } }) }));
    await waitFor('the export', async () => ((await json(await call(`/exports/${id}`))).status === 'done' ? true : undefined));
    assert.equal((await call(`/exports/${id}/download`)).status, 200);
    await withTenant(facet.database.db, demo, (trx) => sql`update audit_exports set expires_at = now() - interval '1 second' where id = ${id}::uuid`.execute(trx));
    const gone = await call(`/exports/${id}/download`);
    assert.equal(gone.status, 410);
    assert.equal((await json(gone)).code, 'export_expired');
    assert.equal((await call('/exports/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await call('/exports/not-a-uuid')).status, 400);
    const badFormat = await call('/exports', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 'xml' }) });
    assert.equal(badFormat.status, 400);
    assert.equal((await call('/exports', { method: 'POST', body: 'format=csv', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 415);
  });

  test('tenant isolation: the other tenant\'s token reads nothing here, and its own log only', async () => {
    assert.equal((await call('/events', {}, OTHER_TOKEN)).status, 401);
    assert.equal((await call('/events', {}, null)).status, 401);
    const own = await json(await call(`${facet.baseUrl}/t/other/admin/api/audit/events?limit=1000`, {}, OTHER_TOKEN));
    assert.ok(own.events.length >= 1);
    assert.ok(own.events.every((e: any) => e.subject !== subject));
    const demoExports = await json(await call('/exports'));
    assert.ok(demoExports.exports.length >= 1);
    const theirs = await call(`${facet.baseUrl}/t/other/admin/api/audit/exports/${demoExports.exports[0].id}`, {}, OTHER_TOKEN);
    assert.equal(theirs.status, 404);
  });

  test('the audit routes are in the OpenAPI document; an auditor may call them, and no other write', async () => {
    const doc = await json(await fetch(`${facet.baseUrl}/t/demo/admin/api/openapi.json`));
    for (const p of ['/audit/events', '/audit/events/{id}', '/audit/exports', '/audit/exports/{id}', '/audit/exports/{id}/download', '/audit/checkpoints', '/audit/catalogue']) {
      assert.ok(Object.keys(doc.paths).some((k) => k.endsWith(p)), `${p} in the document`);
    }
    let writes = 0;
    for (const [p, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      const koaPath = `/t/:slug/admin/api${p.replace(/^.*\/admin\/api/, '').replace(/\{(\w+)\}/g, ':$1')}`;
      for (const method of Object.keys(methods)) {
        const key = routeKey(method, koaPath);
        if (p.includes('/audit/')) assert.ok(mayCall(['auditor'], key), `auditor may call ${key}`);
        if (method !== 'get' && key !== 'POST /audit/exports') {
          writes += 1;
          assert.equal(mayCall(['auditor'], key), false, `auditor may not call ${key}`);
        }
      }
    }
    assert.ok(writes >= 5, `${writes} write routes checked`);
  });

  test('the catalogue is served with its OCSF mapping', async () => {
    const catalogue = await json(await call('/catalogue'));
    const signIn = catalogue.events.find((e: any) => e.type === 'passkey.sign_in');
    assert.deepEqual(signIn.ocsf, { class_uid: 3002, class_name: 'Authentication', activity_id: 1, activity_name: 'Logon' });
    assert.ok(catalogue.events.length >= 45);
  });
});
