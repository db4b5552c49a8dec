// Walks every route of the admin API's OpenAPI document through the console (issue 12): a helpdesk
// and an auditor session get 403 role_forbidden for every route outside their role (the expected
// sets are written out here, not read from the code), and a console session of one tenant is
// nobody (401) at every route of another tenant. On embedded PGlite, and on real PostgreSQL too when DATABASE_URL is set.
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { backends } from '../support/backends.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { finishInteractions } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { grantRole } from '../../src/admin/roles.ts';

const HELPDESK = new Set([
  'GET /me',
  'GET /users',
  'GET /users/{id}',
  'POST /users/{id}/lock',
  'POST /users/{id}/unlock',
  'POST /users/{id}/unlock-account',
  'POST /users/{id}/sign-out',
  'POST /users/{id}/reset-factor',
  'POST /invites',
  'GET /failed-attempts',
  'GET /suspicious',
  'GET /locked',
]);
const auditorMay = (key: string) => key.startsWith('GET ') || key === 'POST /audit/exports';

interface Session {
  jar: CookieJar;
  csrf: string;
}

for (const backend of backends) {
  describe(`admin API walk through the console: roles and tenant isolation (${backend})`, () => {
    let facet: TestFacet;
    let routes: Array<{ method: string; path: string; key: string; body: boolean }>;
    const sessions: Record<string, Session> = {};
    let targetId: string;

    async function signIn(sub: string, slug: string): Promise<Session> {
      const jar = new CookieJar();
      const origin = facet.baseUrl;
      const step = await finishInteractions(await followRedirects(`${origin}/t/${slug}/console`, jar, { origin }), jar, { origin, sub });
      const text = await step.response!.text();
      assert.equal(step.response!.status, 200, text);
      return { jar, csrf: /data-csrf="([^"]+)"/.exec(text)![1]! };
    }

    before(async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'facet-walk-'));
      await writeFile(path.join(dir, 'demo.yaml'), await readFile(path.join(projectRoot, 'tenants/demo.yaml'), 'utf8'));
      await writeFile(path.join(dir, 'other.yaml'), 'slug: other\nname: Other Org\nsettings: { signup: open }\n');
      facet = await startTestFacet({ database: backend, tenantsDir: dir });
      const ids: Record<string, string> = {};
      for (const slug of ['demo', 'other']) {
        const tenant = (await findTenant(facet.database.db, slug))!;
        await withTenant(facet.database.db, tenant, async (trx) => {
          for (const [name, role] of [['admin', 'admin'], ['helpdesk', 'helpdesk'], ['auditor', 'auditor'], ['target', null]] as const) {
            const user = await createUser(trx, { username: `${slug}-${name}`, email: `${name}@${slug}.example` });
            ids[`${slug}-${name}`] = user.id;
            if (role) await grantRole(trx, { userId: user.id, role, source: 'cli', actor: 'test' });
          }
        });
      }
      targetId = ids['demo-target']!;
      for (const key of ['demo-admin', 'demo-helpdesk', 'demo-auditor', 'other-admin']) sessions[key] = await signIn(ids[key]!, key.split('-')[0]!);
      const document = (await (await fetch(`${facet.baseUrl}/t/demo/admin/api/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>>;
      };
      routes = Object.entries(document.paths).flatMap(([p, methods]) =>
        Object.entries(methods)
          .filter(([, op]) => !(Array.isArray(op.security) && op.security.length === 0))
          .map(([method, op]) => ({ method: method.toUpperCase(), path: p, key: `${method.toUpperCase()} ${p}`, body: Boolean(op.requestBody) })),
      );
      assert.ok(routes.length >= 20, `the document lists the routes (${routes.length})`);
    });
    after(async () => facet?.close());

    function call(who: Session, slug: string, route: { method: string; path: string; body: boolean }) {
      const concrete = route.path
        .replace('{id}', route.path.startsWith('/audit/events') ? '1' : route.path.startsWith('/audit/exports') ? '00000000-0000-4000-8000-000000000000' : targetId)
        .replace('{userId}', targetId)
        .replace('{role}', 'auditor');
      return fetch(`${facet.baseUrl}/t/${slug}/console/api${concrete}`, {
        method: route.method,
        headers: {
          cookie: who.jar.header(new URL(`${facet.baseUrl}/t/demo/console/api`)) || who.jar.header(new URL(`${facet.baseUrl}/t/other/console/api`)),
          'x-facet-csrf': who.csrf,
          ...(route.body ? { 'content-type': 'application/json' } : {}),
        },
        ...(route.body ? { body: '{}' } : {}),
      });
    }

    const codeOf = async (response: Response) => (response.headers.get('content-type')?.includes('json') ? ((await response.json()) as { code?: string }).code : (await response.text(), undefined));

    test('helpdesk: 403 role_forbidden for every route outside users and the lockout views', async () => {
      for (const route of routes) {
        const response = await call(sessions['demo-helpdesk']!, 'demo', route);
        const code = await codeOf(response);
        if (HELPDESK.has(route.key)) assert.notEqual(code, 'role_forbidden', `${route.key} is helpdesk's`);
        else assert.deepEqual([response.status, code], [403, 'role_forbidden'], route.key);
      }
    });

    test('auditor: 403 role_forbidden for every write (audit exports aside)', async () => {
      for (const route of routes) {
        const response = await call(sessions['demo-auditor']!, 'demo', route);
        const code = await codeOf(response);
        if (auditorMay(route.key)) assert.notEqual(code, 'role_forbidden', `${route.key} is the auditor's`);
        else assert.deepEqual([response.status, code], [403, 'role_forbidden'], route.key);
      }
    });

    test('an admin of one tenant is nobody at every console API route of another', async () => {
      for (const [who, elsewhere] of [['demo-admin', 'other'], ['other-admin', 'demo']] as const) {
        for (const route of routes) {
          const response = await call(sessions[who]!, elsewhere, route);
          assert.equal(response.status, 401, `${who} at ${elsewhere}: ${route.key}`);
          await response.body?.cancel();
        }
      }
      // At home the same session works.
      assert.equal((await call(sessions['demo-admin']!, 'demo', { method: 'GET', path: '/users', body: false })).status, 200);
    });
  });
}
