// Walks every route of the admin API's OpenAPI document through the console (issue 12): a helpdesk
// and an auditor session get 403 role_forbidden for every route outside their role (the expected
// sets are written out here, not read from the code), and a console session of one tenant is
// nobody (401) at every route of another tenant, and at every console page there too (sent to sign
// in). The same walk for machines (bearer access tokens from client_credentials): a token of one
// tenant is refused (401) at every admin API route of another, and a token with admin:read only gets
// 403 insufficient_scope at every route that is not a read outside the audit trail.
// On embedded PGlite, and on real PostgreSQL too when DATABASE_URL is set.
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
import { adminAccessToken } from '../support/admin-client.ts';

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
      await writeFile(
        path.join(dir, 'other.yaml'),
        [
          'slug: other',
          'name: Other Org',
          'settings: { signup: open }',
          'clients:',
          '  - client_id: other-bot',
          '    grant_types: [client_credentials]',
          '    secret: { env: OTHER_BOT_SECRET, dev: other-bot-dev-secret-000 }',
          '    admin_scopes: [admin:read, admin:write, audit:read]',
          '',
        ].join('\n'),
      );
      // The walks below send a few hundred admin API calls from one address within a minute.
      const limits = { 'signin.ip': { points: 100000 }, 'signup.ip': { points: 100000 }, 'token.ip': { points: 100000 }, 'stepup.ip': { points: 100000 }, 'admin.ip': { points: 100000 }, 'admin.account': { points: 100000 } };
      facet = await startTestFacet({ database: backend, tenantsDir: dir, env: { FACET_RATE_LIMITS: JSON.stringify(limits) } });
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

    const concreteOf = (routePath: string) =>
      routePath
        .replace('{id}', routePath.startsWith('/audit/events') ? '1' : routePath.startsWith('/audit/exports') ? '00000000-0000-4000-8000-000000000000' : targetId)
        .replace('{userId}', targetId)
        .replace('{role}', 'auditor');

    function call(who: Session, slug: string, route: { method: string; path: string; body: boolean }) {
      const concrete = concreteOf(route.path);
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

    test("an admin's console cookie is nobody at every console page of another tenant: sent to sign in there", async () => {
      const pages = ['', '/overview', '/users', `/users/${targetId}`, '/admins', '/keys', '/clients', '/clients/demo-web', '/policies', '/branding', '/audit'];
      for (const [who, elsewhere] of [['demo-admin', 'other'], ['other-admin', 'demo']] as const) {
        const jar = sessions[who]!.jar;
        const cookie = jar.header(new URL(`${facet.baseUrl}/t/${who.split('-')[0]}/console/api`));
        assert.match(cookie, /facet_console=/);
        for (const page of pages) {
          const response = await fetch(`${facet.baseUrl}/t/${elsewhere}/console${page}`, { redirect: 'manual', headers: { cookie, accept: 'text/html' } });
          await response.body?.cancel();
          assert.equal(response.status, 303, `${who} at /t/${elsewhere}/console${page}`);
          assert.match(response.headers.get('location')!, new RegExp(`/t/${elsewhere}/console/sign-in\\?next=`), `${who} at /t/${elsewhere}/console${page}`);
        }
        // A step-up there is a plain sign-in there (no session to step up).
        const stepUp = await fetch(`${facet.baseUrl}/t/${elsewhere}/console/step-up?next=/t/${elsewhere}/console/keys`, { redirect: 'manual', headers: { cookie } });
        const auth = new URL(stepUp.headers.get('location')!, facet.baseUrl);
        assert.equal(auth.pathname, `/t/${elsewhere}/auth`);
        assert.equal(auth.searchParams.get('max_age'), null);
      }
    });

    /** A machine's call on the admin API itself (bearer token, no console). */
    function machineCall(token: string, slug: string, route: { method: string; path: string; body: boolean }) {
      return fetch(`${facet.baseUrl}/t/${slug}/admin/api${concreteOf(route.path)}`, {
        method: route.method,
        headers: { authorization: `Bearer ${token}`, ...(route.body ? { 'content-type': 'application/json' } : {}) },
        ...(route.body ? { body: '{}' } : {}),
      });
    }

    test("a machine token of one tenant is refused (401) at every admin API route of another", async () => {
      const tokens = {
        demo: await adminAccessToken(facet.baseUrl),
        other: await adminAccessToken(facet.baseUrl, { slug: 'other', clientId: 'other-bot', secret: 'other-bot-dev-secret-000' }),
      };
      for (const [from, elsewhere] of [['demo', 'other'], ['other', 'demo']] as const) {
        for (const route of routes) {
          const response = await machineCall(tokens[from], elsewhere, route);
          const body = (await response.json().catch(() => ({}))) as { code?: string };
          assert.deepEqual([response.status, body.code], [401, 'invalid_token'], `${from}'s token at ${elsewhere}: ${route.key}`);
        }
        // At home the same token works.
        const home = await machineCall(tokens[from], from, { method: 'GET', path: '/users', body: false });
        await home.body?.cancel();
        assert.equal(home.status, 200);
      }
    });

    test('a machine token with admin:read only: 403 insufficient_scope at every route but the reads outside the audit trail', async () => {
      const token = await adminAccessToken(facet.baseUrl, { scope: 'admin:read' });
      const readMay = (key: string) => key.startsWith('GET ') && !/^GET \/audit(\/|$)/.test(key);
      let allowed = 0;
      for (const route of routes) {
        const response = await machineCall(token, 'demo', route);
        const body = (await response.json().catch(() => ({}))) as { code?: string };
        if (readMay(route.key)) {
          allowed += 1;
          assert.notEqual(response.status, 401, `${route.key} with admin:read`);
          assert.notEqual(body.code, 'insufficient_scope', `${route.key} is admin:read's`);
        } else assert.deepEqual([response.status, body.code], [403, 'insufficient_scope'], route.key);
      }
      assert.ok(allowed >= 10, `admin:read reads (${allowed} routes)`);
    });
  });
}
