// "An auditor cannot change anything" over HTTP (issue 13): every write route of the tenant's
// OpenAPI document, called by an auditor signed in to the console, answers 403 — role_forbidden,
// except requesting an export, the auditor's one write, which is sensitive and asks for a fresh
// step-up first. A machine token with only the audit:read scope gets 403 insufficient_scope on the
// same routes (export requests aside, which audit:read may make). Nothing was changed: the audit
// trail holds no event written by these calls.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { finishInteractions } from '../support/code-flow.ts';
import { adminAccessToken } from '../support/admin-client.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { grantRole } from '../../src/admin/roles.ts';

describe('auditors cannot write: every write route of the OpenAPI document over HTTP', () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let auditorId: string;

  before(async () => {
    facet = await startTestFacet({ database: 'postgres' });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    await withTenant(facet.database.db, demo, async (trx) => {
      auditorId = (await createUser(trx, { username: 'aud', email: 'aud@demo.example' })).id;
      await grantRole(trx, { userId: auditorId, role: 'auditor', source: 'cli', actor: 'test' });
    });
  });
  after(async () => facet?.close());

  /** Every non-GET operation of the document, as [method, path relative to /admin/api with dummy params]. */
  async function writeRoutes(): Promise<Array<[string, string]>> {
    const doc = (await (await fetch(`${facet.baseUrl}/t/demo/admin/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes: Array<[string, string]> = [];
    for (const [p, methods] of Object.entries(doc.paths)) {
      const relative = p.replace(/^.*\/admin\/api/, '').replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? '00000000-0000-4000-8000-000000000001' : `x-${name}`));
      for (const method of Object.keys(methods)) if (!['get', 'head', 'options', 'parameters'].includes(method)) routes.push([method.toUpperCase(), relative]);
    }
    return routes;
  }

  const eventCount = () => withTenant(facet.database.db, demo, async (trx) => Number((await sql<{ n: string }>`select count(*)::text as n from audit_events where actor = ${auditorId} or type like 'audit.%' or type like 'keys.%'`.execute(trx)).rows[0]!.n));

  test('a console auditor: 403 on every write (role_forbidden; the export request asks for a step-up)', async () => {
    const routes = await writeRoutes();
    assert.ok(routes.length >= 10, `${routes.length} write routes in the document`);
    assert.ok(routes.some(([m, p]) => m === 'POST' && p === '/keys/audit-signing/rotate'));
    const jar = new CookieJar();
    let step = await followRedirects(`${facet.baseUrl}/t/demo/console/users`, jar, { origin: facet.baseUrl });
    step = await finishInteractions(step, jar, { origin: facet.baseUrl, sub: auditorId });
    const csrf = /data-csrf="([^"]+)"/.exec(await step.response!.text())?.[1] ?? '';
    assert.ok(csrf.length > 20, 'signed in to the console');
    const before = await eventCount();
    for (const [method, route] of routes) {
      const response = await fetch(`${facet.baseUrl}/t/demo/console/api${route}`, {
        method,
        headers: { cookie: jar.header(new URL(`${facet.baseUrl}/t/demo/console/api`)), 'x-facet-csrf': csrf, 'content-type': 'application/json' },
        body: '{}',
      });
      const body = (await response.json()) as { code: string };
      assert.equal(response.status, 403, `${method} ${route}: ${JSON.stringify(body)}`);
      assert.equal(body.code, method === 'POST' && route === '/audit/exports' ? 'step_up_required' : 'role_forbidden', `${method} ${route}`);
    }
    assert.equal(await eventCount(), before, 'nothing was written');
  });

  test('a machine token with audit:read: 403 insufficient_scope on every write but an export request', async () => {
    const authorization = `Bearer ${await adminAccessToken(facet.baseUrl, { scope: 'audit:read' })}`;
    for (const [method, route] of await writeRoutes()) {
      if (method === 'POST' && route === '/audit/exports') continue;
      const response = await fetch(`${facet.baseUrl}/t/demo/admin/api${route}`, { method, headers: { authorization, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(response.status, 403, `${method} ${route}`);
      assert.match(JSON.stringify(await response.json()), /scope/, `${method} ${route}`);
    }
  });
});
