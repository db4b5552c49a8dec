// The tenant admin API: machine access token, problem+json errors, security views, account actions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { recordFailure } from '../../src/lockout/index.ts';
import { adminAccessToken } from '../support/admin-client.ts';

let TOKEN = '';

describe('admin API', () => {
  let facet: TestFacet;
  let tenant: TenantRecord;
  let userId: string;
  let api: string;

  before(async () => {
    facet = await startTestFacet();
    tenant = (await findTenant(facet.database.db, 'demo'))!;
    api = `${facet.baseUrl}/t/demo/admin/api`;
    TOKEN = await adminAccessToken(facet.baseUrl);
    userId = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'mallory-target' }))).id;
    await withTenant(facet.database.db, tenant, async (trx) => {
      for (let i = 0; i < 6; i += 1) await recordFailure(trx, { userId, factor: 'otp', reason: 'invalid_code', ip: '203.0.113.7', userAgent: 'test' });
    });
  });
  after(async () => facet?.close());

  const call = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(`${api}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) } });

  test('no token or a wrong token is a 401 problem', async () => {
    for (const token of [null, 'wrong-token-of-some-length']) {
      const response = await call('/locked', {}, token);
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/);
    }
  });

  test('failed attempts, suspicious activity and locked accounts', async () => {
    const attempts = (await (await call('/failed-attempts?hours=1')).json()) as { attempts: Array<{ factor: string; ip: string }> };
    assert.equal(attempts.attempts.length, 6);
    assert.ok(attempts.attempts.every((a) => a.factor === 'otp' && a.ip === '203.0.113.7'));
    const suspicious = (await (await call('/suspicious?hours=1&threshold=5')).json()) as Record<string, Array<Record<string, unknown>>>;
    assert.ok(JSON.stringify(suspicious).includes('203.0.113.7'), JSON.stringify(suspicious));
    const locked = (await (await call('/locked')).json()) as { locked: Array<{ userId: string; factor: string }> };
    assert.ok(locked.locked.some((l) => l.userId === userId && l.factor === 'otp'), JSON.stringify(locked));
  });

  test('bad parameters are a specific 400 problem', async () => {
    const response = await call('/failed-attempts?hours=100000');
    assert.equal(response.status, 400);
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'invalid_parameters');
    assert.match(problem.detail, /hours/);
    assert.equal((await call('/users/not-a-uuid/unlock', { method: 'POST' })).status, 400);
    assert.equal((await call('/users/00000000-0000-4000-8000-000000000000/unlock', { method: 'POST' })).status, 404);
    const badJson = await call(`/users/${userId}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(badJson.status, 400);
    // Factor names outside the one vocabulary (the old spellings included) are refused.
    for (const factor of ['totp', 'recovery', 'password']) {
      const refused = await call(`/users/${userId}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ factor }) });
      assert.equal(refused.status, 400, factor);
    }
  });

  test('unlock clears the lock and is audited', async () => {
    const response = await call(`/users/${userId}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ factor: 'otp' }) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { unlocked: ['otp'] });
    const locked = (await (await call('/locked')).json()) as { locked: Array<{ userId: string }> };
    assert.ok(!locked.locked.some((l) => l.userId === userId));
    const events = await withTenant(facet.database.db, tenant, (trx) => trx.selectFrom('audit_events').select(['type', 'actor']).where('type', '=', 'lockout.unlocked').execute());
    assert.deepEqual(events, [{ type: 'lockout.unlocked', actor: 'client:demo-admin' }]);
  });

  test('delete, then restore; the audit chain verifies', async () => {
    assert.equal((await call(`/users/${userId}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call(`/users/${userId}/sign-out`, { method: 'POST' })).status, 404, 'a deleted user is gone for the API');
    assert.equal((await call(`/users/${userId}/restore`, { method: 'POST' })).status, 204);
    assert.equal((await call(`/users/${userId}/sign-out`, { method: 'POST' })).status, 200);
    const verdict = (await (await call('/audit/verify')).json()) as { ok: boolean };
    assert.equal(verdict.ok, true);
  });

  test("another tenant's admin API refuses this tenant's token", async () => {
    const { createTenant } = await import('../../src/tenancy/provision.ts');
    await createTenant(facet.database.db, { slug: 'quiet' }, { kek: facet.config.kek });
    const response = await fetch(`${facet.baseUrl}/t/quiet/admin/api/locked`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { code: string }).code, 'invalid_token');
  });
});
