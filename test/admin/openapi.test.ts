// The admin API's contract: the OpenAPI 3.1 document built from the route guards validates with a
// real OpenAPI validator and names every route; every route's real answers (successes and
// problems) match what its guard declares; a reply outside its declaration is refused.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { z } from 'zod';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { recordFailure } from '../../src/lockout/index.ts';
import { ADMIN_ROUTES } from '../../src/admin/api.ts';
import { guard } from '../../src/http/middleware/guard.ts';
import { errorHandler } from '../../src/http/error-responder.ts';
import { adminAccessToken } from '../support/admin-client.ts';

let TOKEN = '';
const problemSchema = z.object({ type: z.url(), title: z.string(), status: z.number().int(), detail: z.string(), code: z.string() });

describe('admin API contract (OpenAPI 3.1 from the route guards)', () => {
  let facet: TestFacet;
  let api: string;
  let userId: string;
  let document: any;

  before(async () => {
    facet = await startTestFacet();
    api = `${facet.baseUrl}/t/demo/admin/api`;
    TOKEN = await adminAccessToken(facet.baseUrl);
    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    userId = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'contract-target' }))).id;
    await withTenant(facet.database.db, tenant, async (trx) => {
      for (let i = 0; i < 6; i += 1) await recordFailure(trx, { userId, factor: 'otp', reason: 'invalid_code', ip: '203.0.113.9', userAgent: 'test' });
    });
    const response = await fetch(`${api}/openapi.json`);
    assert.equal(response.status, 200, 'the document needs no token');
    document = await response.json();
  });
  after(async () => facet?.close());

  test('the document is valid OpenAPI 3.1 and describes every declared route', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, '3.1');
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.servers[0].url, `${facet.config.publicUrl}/t/demo/admin/api`);
    for (const spec of Object.values(ADMIN_ROUTES)) {
      const path = spec.path.replace(/:(\w+)/g, '{$1}');
      const operation = document.paths[path]?.[spec.method];
      assert.ok(operation, `${spec.method.toUpperCase()} ${path} is in the document`);
      assert.equal(operation.operationId, spec.operationId);
      for (const status of Object.keys(spec.responses)) assert.ok(operation.responses[status], `${spec.operationId} declares ${status}`);
    }
    const unlock = document.paths['/users/{id}/unlock'].post;
    assert.deepEqual(unlock.parameters.map((p: any) => [p.name, p.in, p.required]), [['id', 'path', true]]);
    assert.deepEqual(unlock.requestBody.content['application/json'].schema.properties.factor.enum, ['passkey', 'otp', 'nfc', 'face', 'recovery_code']);
    const attempts = document.paths['/failed-attempts'].get;
    assert.deepEqual(attempts.parameters.map((p: any) => [p.name, p.in, p.schema.maximum]), [['hours', 'query', 720], ['limit', 'query', 1000]]);
    assert.equal(attempts.responses['429'].content['application/problem+json'].schema.$ref, '#/components/schemas/Problem');
    assert.ok(attempts.responses['429'].headers['Retry-After']);
    assert.deepEqual(document.security, [{ adminToken: [] }]);
    // Each operation names the admin scope a machine's token needs.
    assert.deepEqual(document.paths['/locked'].get.security, [{ adminToken: ['admin:read'] }]);
    assert.deepEqual(document.paths['/users/{id}/unlock'].post.security, [{ adminToken: ['admin:write'] }]);
    assert.deepEqual(document.paths['/audit/verify'].get.security, [{ adminToken: ['audit:read'] }]);
    assert.match(document.components.securitySchemes.adminToken.description, /client_credentials/);
    assert.deepEqual(document.paths['/openapi.json'].get.security, []);
  });

  test("every route's real answers match its declared response schema", async () => {
    const call = (path: string, init: RequestInit = {}) => fetch(`${api}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) } });
    const json = { 'content-type': 'application/json' };
    const covered = new Set<string>();
    const check = async (name: keyof typeof ADMIN_ROUTES, response: Response) => {
      const spec = ADMIN_ROUTES[name];
      const declared = (spec.responses as Record<number, { schema?: z.ZodType }>)[response.status];
      assert.ok(declared, `${spec.operationId} answered ${response.status}, which it does not declare`);
      const text = await response.text();
      if (declared.schema) declared.schema.parse(JSON.parse(text));
      else assert.equal(text, '', `${spec.operationId} ${response.status} has no body`);
      covered.add(name);
      return text ? JSON.parse(text) : undefined;
    };
    assert.ok((await check('failedAttempts', await call('/failed-attempts?hours=1'))).attempts.length >= 6);
    assert.ok((await check('suspicious', await call('/suspicious?hours=1&threshold=5'))).ips.length >= 1);
    assert.ok((await check('locked', await call('/locked'))).locked.some((l: { userId: string }) => l.userId === userId));
    assert.deepEqual(await check('unlock', await call(`/users/${userId}/unlock`, { method: 'POST', headers: json, body: JSON.stringify({ factor: 'otp' }) })), { unlocked: ['otp'] });
    await check('signOut', await call(`/users/${userId}/sign-out`, { method: 'POST' }));
    await check('deleteUser', await call(`/users/${userId}`, { method: 'DELETE' }));
    await check('restoreUser', await call(`/users/${userId}/restore`, { method: 'POST' }));
    assert.equal((await check('auditVerify', await call('/audit/verify'))).ok, true);
    await check('openapi', await fetch(`${api}/openapi.json`));
    assert.deepEqual([...covered].sort(), Object.keys(ADMIN_ROUTES).sort(), 'every declared route was exercised');

    // The problems are the declared ones, in the Problem shape.
    const problems: Array<[keyof typeof ADMIN_ROUTES, Response]> = [
      ['failedAttempts', await call('/failed-attempts?hours=0')],
      ['locked', await fetch(`${api}/locked`)],
      ['unlock', await call(`/users/${userId}/unlock`, { method: 'POST', headers: json, body: '{nope' })],
      ['unlock', await call(`/users/${userId}/unlock`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'otp' })],
      ['unlock', await call(`/users/${userId}/unlock`, { method: 'POST', headers: json, body: JSON.stringify({ factor: 'otp', pad: 'x'.repeat(20_000) }) })],
      ['signOut', await call('/users/00000000-0000-4000-8000-000000000000/sign-out', { method: 'POST' })],
      ['deleteUser', await call('/users/not-a-uuid', { method: 'DELETE' })],
    ];
    const statuses: number[] = [];
    for (const [name, response] of problems) {
      const declared = ADMIN_ROUTES[name].problems as Record<number, string>;
      assert.ok(declared[response.status], `${name} answered ${response.status}, which it does not declare`);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      const problem = problemSchema.parse(await response.json());
      assert.equal(problem.status, response.status);
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [400, 401, 400, 415, 413, 404, 400]);
  });

  test('a reply outside its declared schema is refused (500), not sent', async () => {
    const spec = { method: 'get', path: '/x', operationId: 'x', summary: 'x', responses: { 200: { description: 'x', schema: z.object({ n: z.number() }) } } } as const;
    const breaches: string[] = [];
    const good = guard(spec, async () => ({ status: 200, body: { n: 1 } }), { checkResponses: true });
    const bad = guard(spec, async () => ({ status: 200, body: { n: 'one' } }), { checkResponses: true, onContractBreach: (s) => breaches.push(s.operationId) });
    const undeclared = guard(spec, async () => ({ status: 201, body: { n: 1 } }), { checkResponses: true });
    const app = new Koa();
    app.use(errorHandler({ onUnexpected: () => {} }));
    app.use((ctx, next) => (ctx.path === '/good' ? good.handle(ctx, next) : ctx.path === '/bad' ? bad.handle(ctx, next) : undeclared.handle(ctx, next)));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.equal((await fetch(`${base}/good`)).status, 200);
      const refused = await fetch(`${base}/bad`);
      assert.equal(refused.status, 500);
      assert.doesNotMatch(await refused.text(), /one/);
      assert.deepEqual(breaches, ['x']);
      assert.equal((await fetch(`${base}/undeclared`)).status, 500);
    } finally {
      server.close();
    }
  });
});
