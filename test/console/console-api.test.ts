// The console's back end over HTTP (issue 12): sign-in through the tenant's own OIDC with the
// built-in client (code + PKCE, finished by the test helper as a passkey login), the session cookie
// (HttpOnly, SameSite=Strict, path /t/<slug>/console), the admin API through the console with roles
// checked per route (helpdesk cannot touch roles or deletions; auditor reads only), CSRF on writes,
// step-up demanded for sensitive actions, and tenant isolation of sessions. Runs on embedded PGlite, and on
// real PostgreSQL too when DATABASE_URL is set.
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
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { grantRole, rolesOf } from '../../src/admin/roles.ts';
import { createTenant } from '../../src/tenancy/provision.ts';

for (const backend of backends) {
  describe(`console back end (${backend})`, () => {
    let facet: TestFacet;
    let demo: TenantRecord;
    const ids: Record<string, string> = {};

    before(async () => {
      // The demo tenant plus a second tenant, "other", whose file names its admin by email.
      const dir = await mkdtemp(path.join(tmpdir(), 'facet-console-'));
      await writeFile(path.join(dir, 'demo.yaml'), await readFile(path.join(projectRoot, 'tenants/demo.yaml'), 'utf8'));
      await writeFile(
        path.join(dir, 'other.yaml'),
        ['slug: other', 'name: Other Org', 'settings: { signup: open }', 'admins:', '  - user: olga@other.example', '    role: admin', ''].join('\n'),
      );
      facet = await startTestFacet({ database: backend, tenantsDir: dir });
      demo = (await findTenant(facet.database.db, 'demo'))!;
      await withTenant(facet.database.db, demo, async (trx) => {
        for (const name of ['ada', 'hal', 'aud', 'nobody', 'target', 'target2']) {
          ids[name] = (await createUser(trx, { username: name, email: `${name}@demo.example` })).id;
        }
        await grantRole(trx, { userId: ids.ada!, role: 'admin', source: 'cli', actor: 'test' });
        await grantRole(trx, { userId: ids.hal!, role: 'helpdesk', source: 'cli', actor: 'test' });
        await grantRole(trx, { userId: ids.aud!, role: 'auditor', source: 'cli', actor: 'test' });
      });
    });
    after(async () => facet?.close());

    /** Signs in to a tenant's console as `sub` and returns the cookie jar and the page's CSRF token. */
    async function signIn(sub: string, slug = 'demo') {
      const jar = new CookieJar();
      const origin = facet.baseUrl;
      let step = await followRedirects(`${origin}/t/${slug}/console/users`, jar, { origin });
      step = await finishInteractions(step, jar, { origin, sub });
      assert.ok(step.response, `stopped at ${step.url}`);
      const text = await step.response.text();
      return { jar, status: step.response.status, text, url: step.url, csrf: /data-csrf="([^"]+)"/.exec(text)?.[1] ?? '' };
    }

    function api(who: { jar: CookieJar; csrf: string }, route: string, init: { method?: string; body?: unknown; csrf?: string | null; slug?: string } = {}) {
      const url = new URL(`${facet.baseUrl}/t/${init.slug ?? 'demo'}/console/api${route}`);
      return fetch(url, {
        method: init.method ?? 'GET',
        headers: {
          cookie: who.jar.header(new URL(`${facet.baseUrl}/t/${init.slug ?? 'demo'}/console/api`)),
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(init.csrf === null ? {} : { 'x-facet-csrf': init.csrf ?? who.csrf }),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    }

    test('signing in: an authorization request of the built-in client, then the console page', async () => {
      const jar = new CookieJar();
      const first = await fetch(`${facet.baseUrl}/t/demo/console`, { redirect: 'manual' });
      assert.equal(first.status, 303);
      assert.match(first.headers.get('location')!, /\/t\/demo\/console\/sign-in\?next=/);
      const start = await fetch(new URL(first.headers.get('location')!, facet.baseUrl), { redirect: 'manual' });
      const auth = new URL(start.headers.get('location')!, facet.baseUrl);
      assert.equal(auth.pathname, '/t/demo/auth');
      assert.equal(auth.searchParams.get('client_id'), 'facet-console');
      assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(auth.searchParams.get('acr_values'), 'urn:facet:acr:passkey');
      assert.equal(jar.header(auth), '');

      const admin = await signIn(ids.ada!);
      assert.equal(admin.status, 200, admin.text);
      assert.equal(admin.url.pathname, '/t/demo/console/users');
      assert.match(admin.text, /<script type="module" src="\/assets\/build\/console.js" nonce="[^"]+"><\/script>/);
      assert.ok(admin.csrf.length > 20);

    });

    test('the session cookie is HttpOnly, SameSite=Strict and scoped to /t/<slug>/console', async () => {
      const jar = new CookieJar();
      const origin = facet.baseUrl;
      let url = new URL(`${origin}/t/demo/console/sign-in`);
      let sessionCookie: string | undefined;
      for (let hop = 0; hop < 15; hop += 1) {
        if (/\/interaction\/[^/]+$/.test(url.pathname)) url = new URL(`${url.pathname}/__test-complete?sub=${ids.ada}`, origin);
        const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url), accept: 'text/html' } });
        jar.store(response);
        sessionCookie ??= response.headers.getSetCookie().find((c) => c.startsWith('facet_console='));
        const location = response.headers.get('location');
        if (!location) break;
        url = new URL(location, url);
      }
      assert.ok(sessionCookie, 'a session cookie was set');
      assert.match(sessionCookie, /path=\/t\/demo\/console/i);
      assert.match(sessionCookie, /httponly/i);
      assert.match(sessionCookie, /samesite=strict/i);
    });

    test('where the sign-in returns to is only ever a page of this console', async () => {
      for (const next of ['https://evil.example/', '//evil.example/x', '/t/other/console', '/t/demo/console/../../other/console', '/t/demo/console/api/users']) {
        const jar = new CookieJar();
        const origin = facet.baseUrl;
        let step = await followRedirects(`${origin}/t/demo/console/sign-in?next=${encodeURIComponent(next)}`, jar, { origin });
        step = await finishInteractions(step, jar, { origin, sub: ids.ada! });
        assert.equal(step.url.href, `${origin}/t/demo/console`, next);
        await step.response?.body?.cancel();
      }
    });

    test('a user without a role is signed in but refused the console', async () => {
      const nobody = await signIn(ids.nobody!);
      assert.equal(nobody.status, 403);
      assert.match(nobody.text, /hold no admin role/);
      const call = await api(nobody, '/users');
      assert.equal(call.status, 401);
    });

    test('admin: searches users with a cursor, reads a user, signs them out', async () => {
      const admin = await signIn(ids.ada!);
      const first = await api(admin, '/users?q=target&sort=username&order=asc&limit=1');
      assert.equal(first.status, 200);
      const page1 = (await first.json()) as { users: Array<{ id: string; username: string }>; next: string | null };
      assert.deepEqual(page1.users.map((u) => u.username), ['target']);
      assert.ok(page1.next);
      const page2 = (await (await api(admin, `/users?q=target&sort=username&order=asc&limit=1&after=${page1.next}`)).json()) as typeof page1;
      assert.deepEqual(page2.users.map((u) => u.username), ['target2']);
      assert.equal(page2.next, null);
      const bad = await api(admin, '/users?after=not-a-cursor');
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { code: string }).code, 'invalid_cursor');

      const detail = await api(admin, `/users/${ids.target}`);
      assert.equal(detail.status, 200);
      const body = (await detail.json()) as { user: { username: string }; factors: { passkeys: unknown[] }; events: unknown[] };
      assert.equal(body.user.username, 'target');

      const signedOut = await api(admin, `/users/${ids.target}/sign-out`, { method: 'POST' });
      assert.equal(signedOut.status, 200, await signedOut.clone().text());
      const me = (await (await api(admin, '/me')).json()) as { roles: string[]; acr: string; stepUpFreshUntil: string | null; adminAcr: string };
      assert.deepEqual(me.roles, ['admin']);
      assert.equal(me.acr, 'urn:facet:acr:passkey');
      assert.equal(me.stepUpFreshUntil, null);
      assert.equal(me.adminAcr, 'urn:facet:acr:passkey+otp');

      // The audit trail names the admin as the actor.
      const actor = await withTenant(facet.database.db, demo, (trx) =>
        trx.selectFrom('audit_events').select('actor').where('type', '=', 'account.signed_out_everywhere').where('subject', '=', ids.target!).executeTakeFirst(),
      );
      assert.equal(actor?.actor, ids.ada);
    });

    test('admin edits a profile (audited); an email another account has is a 409; helpdesk may not edit', async () => {
      const admin = await signIn(ids.ada!);
      const edited = await api(admin, `/users/${ids.target2}`, { method: 'PATCH', body: { displayName: 'Target Two', email: 'two@demo.example' } });
      assert.equal(edited.status, 200, await edited.clone().text());
      assert.deepEqual(await edited.json(), { id: ids.target2, username: 'target2', email: 'two@demo.example', emailVerified: false, displayName: 'Target Two' });
      const taken = await api(admin, `/users/${ids.target2}`, { method: 'PATCH', body: { email: 'ADA@demo.example' } });
      assert.equal(taken.status, 409);
      assert.equal(((await taken.json()) as { code: string }).code, 'email_taken');
      const bad = await api(admin, `/users/${ids.target2}`, { method: 'PATCH', body: { email: 'not an email' } });
      assert.equal(bad.status, 400);
      const event = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select(['actor', 'data']).where('type', '=', 'account.profile_changed').executeTakeFirst());
      assert.deepEqual(event, { actor: ids.ada, data: { fields: ['display_name', 'email'] } });
      const hal = await signIn(ids.hal!);
      assert.equal((await api(hal, `/users/${ids.target2}`, { method: 'PATCH', body: { displayName: 'x' } })).status, 403);
    });

    test('writes need the session CSRF token; no session is a 401 problem', async () => {
      const admin = await signIn(ids.ada!);
      const noCsrf = await api(admin, `/users/${ids.target}/sign-out`, { method: 'POST', csrf: null });
      assert.equal(noCsrf.status, 403);
      assert.equal(((await noCsrf.json()) as { code: string }).code, 'csrf_failed');
      const wrong = await api(admin, `/users/${ids.target}/sign-out`, { method: 'POST', csrf: 'x'.repeat(32) });
      assert.equal(wrong.status, 403);
      const anonymous = await fetch(`${facet.baseUrl}/t/demo/console/api/users`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('content-type'), 'application/problem+json');
      assert.equal(((await anonymous.json()) as { code: string }).code, 'console_session_required');
    });

    test('sensitive actions demand a fresh step-up to the admin acr (RFC 9470 through the console)', async () => {
      const admin = await signIn(ids.ada!);
      for (const [method, route] of [
        ['DELETE', `/users/${ids.target2}`],
        ['PUT', `/roles/${ids.nobody}/auditor`],
        ['DELETE', `/roles/${ids.hal}/helpdesk`],
        ['POST', '/keys/rotate'],
      ] as const) {
        const response = await api(admin, route, { method });
        assert.equal(response.status, 403, `${method} ${route}`);
        const problem = (await response.json()) as { code: string; redirect: string; acr: string };
        assert.equal(problem.code, 'step_up_required');
        assert.equal(problem.acr, 'urn:facet:acr:passkey+otp');
        assert.match(problem.redirect, /^\/t\/demo\/console\/step-up\?next=/);
      }
      // The step-up is a new authorization request with acr_values and max_age.
      const stepUp = await fetch(`${facet.baseUrl}/t/demo/console/step-up?next=/t/demo/console/users`, { redirect: 'manual', headers: { cookie: admin.jar.header(new URL(`${facet.baseUrl}/t/demo/console/step-up`)) } });
      const auth = new URL(stepUp.headers.get('location')!, facet.baseUrl);
      assert.equal(auth.searchParams.get('acr_values'), 'urn:facet:acr:passkey+otp');
      assert.equal(auth.searchParams.get('max_age'), '300');
      // Nothing was deleted or granted.
      assert.deepEqual(await withTenant(facet.database.db, demo, (trx) => rolesOf(trx, ids.nobody!)), []);
    });

    test('helpdesk: users yes; roles, deletion and anything else no', async () => {
      const hal = await signIn(ids.hal!);
      assert.equal(hal.status, 200);
      assert.equal((await api(hal, '/users')).status, 200);
      assert.equal((await api(hal, `/users/${ids.target}`)).status, 200);
      assert.equal((await api(hal, `/users/${ids.target}/sign-out`, { method: 'POST' })).status, 200);
      assert.equal((await api(hal, `/users/${ids.target}/unlock`, { method: 'POST', body: {} })).status, 200);
      assert.equal((await api(hal, '/locked')).status, 200);
      for (const [method, route] of [
        ['GET', '/roles'],
        ['PUT', `/roles/${ids.hal}/admin`],
        ['DELETE', `/users/${ids.target}`],
        ['POST', `/users/${ids.target}/restore`],
        ['GET', '/audit/events'],
        ['GET', '/audit/verify'],
        ['GET', '/clients'],
        ['GET', '/keys'],
        ['POST', '/keys/rotate'],
      ] as const) {
        const response = await api(hal, route, { method });
        assert.equal(response.status, 403, `${method} ${route}`);
        assert.equal(((await response.json()) as { code: string }).code, 'role_forbidden');
      }
    });

    test('auditor: reads, never writes', async () => {
      const aud = await signIn(ids.aud!);
      for (const route of ['/users', `/users/${ids.target}`, '/roles', '/locked', '/audit/verify', '/keys', '/clients']) assert.equal((await api(aud, route)).status, 200, route);
      for (const [method, route, body] of [
        ['POST', `/users/${ids.target}/sign-out`, undefined],
        ['POST', `/users/${ids.target}/unlock`, {}],
        ['POST', `/users/${ids.target}/lock`, {}],
        ['POST', '/invites', { email: 'x@demo.example' }],
        ['DELETE', `/users/${ids.target}`, undefined],
        ['POST', '/keys/rotate', undefined],
        ['PUT', `/roles/${ids.nobody}/auditor`, undefined],
      ] as const) {
        const response = await api(aud, route, { method, ...(body ? { body } : {}) });
        assert.equal(response.status, 403, `${method} ${route}`);
        assert.equal(((await response.json()) as { code: string }).code, 'role_forbidden');
      }
    });

    test('with a fresh step-up (acr passkey+otp within 5 minutes) the sensitive routes answer', async () => {
      const admin = await signIn(ids.ada!);
      // The step-up itself runs through Facet's pages in the browser test; here the session is given its result.
      const stepUp = (at: Date) =>
        withTenant(facet.database.db, demo, (trx) => trx.updateTable('console_sessions').set({ acr: 'urn:facet:acr:passkey+otp', auth_time: at }).where('user_id', '=', ids.ada!).execute());
      await stepUp(new Date());
      const me = (await (await api(admin, '/me')).json()) as { stepUpFreshUntil: string | null };
      assert.ok(me.stepUpFreshUntil);
      const keysBefore = ((await (await api(admin, '/keys')).json()) as { keys: Array<{ status: string }> }).keys;
      const rotated = await api(admin, '/keys/rotate', { method: 'POST' });
      assert.equal(rotated.status, 200, await rotated.clone().text());
      const keysAfter = ((await (await api(admin, '/keys')).json()) as { keys: Array<{ status: string; alg: string }> }).keys;
      assert.equal(keysAfter.filter((k) => k.status === 'active').length, 2);
      assert.equal(keysAfter.length, keysBefore.length + 2);
      // Retire one of the keys now in its overlap early: it leaves the published key set at once.
      const retiring = keysAfter.find((k) => k.status === 'retiring') as { kid: string; status: string } | undefined;
      assert.ok(retiring, 'a rotated key is in its overlap');
      const jwksKids = async () => ((await (await fetch(`${facet.baseUrl}/t/demo/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
      const retiredEarly = await api(admin, `/keys/${retiring.kid}/retire`, { method: 'POST' });
      assert.equal(retiredEarly.status, 200, await retiredEarly.clone().text());
      assert.deepEqual(await retiredEarly.json(), { retired: retiring.kid });
      const deadline = Date.now() + 5000;
      while ((await jwksKids()).includes(retiring.kid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!(await jwksKids()).includes(retiring.kid), 'a key retired early is no longer published');
      const again = await api(admin, `/keys/${retiring.kid}/retire`, { method: 'POST' });
      assert.equal(again.status, 409);
      assert.equal(((await again.json()) as { code: string }).code, 'key_retired');
      const activeKid = (keysAfter.find((k) => k.status === 'active') as { kid?: string }).kid!;
      const active = await api(admin, `/keys/${activeKid}/retire`, { method: 'POST' });
      assert.equal(active.status, 409);
      assert.equal(((await active.json()) as { code: string }).code, 'key_active');
      assert.equal((await api(admin, '/keys/no-such-key/retire', { method: 'POST' })).status, 404);
      const retiredEvent = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('audit_events').select(['id']).where('type', '=', 'keys.retired_early').execute());
      assert.equal(retiredEvent.length, 1);
      const granted = await api(admin, `/roles/${ids.nobody}/auditor`, { method: 'PUT' });
      assert.deepEqual(await granted.json(), { granted: true, roles: ['auditor'] });
      const revoked = await api(admin, `/roles/${ids.nobody}/auditor`, { method: 'DELETE' });
      assert.deepEqual(await revoked.json(), { revoked: true, roles: [] });
      const last = await api(admin, `/roles/${ids.ada}/admin`, { method: 'DELETE' });
      assert.equal(last.status, 409);
      assert.equal(((await last.json()) as { code: string }).code, 'last_admin');
      const clients = ((await (await api(admin, '/clients')).json()) as { clients: Array<{ clientId: string; managedBy: string; readOnly: boolean }> }).clients;
      assert.deepEqual(clients.find((c) => c.clientId === 'demo-web'), { ...clients.find((c) => c.clientId === 'demo-web')!, managedBy: 'tenants/demo.yaml', readOnly: true });
      assert.equal(clients[0]!.clientId, 'facet-console');
      const audit = await withTenant(facet.database.db, demo, (trx) =>
        trx.selectFrom('audit_events').select(['type', 'actor']).where('type', 'in', ['admin.role_granted', 'admin.role_revoked', 'keys.rotated']).where('actor', '=', ids.ada!).execute(),
      );
      assert.deepEqual(audit.map((e) => e.type).sort(), ['admin.role_granted', 'admin.role_revoked', 'keys.rotated']);
      // Older than 5 minutes, the same step-up no longer counts.
      await stepUp(new Date(Date.now() - 301_000));
      assert.equal((await api(admin, '/keys/rotate', { method: 'POST' })).status, 403);
    });

    test('security policies: read with their defaults; changed only where no tenant file manages them (sensitive)', async () => {
      const aud = await signIn(ids.aud!);
      const read = (await (await api(aud, '/policies')).json()) as { policies: { signup: string; admin_acr: string }; defaults: { signup: string }; managedBy: string | null };
      assert.equal(read.policies.signup, 'open');
      assert.equal(read.defaults.signup, 'invite');
      assert.equal(read.policies.admin_acr, 'urn:facet:acr:passkey+otp');
      assert.match(read.managedBy ?? '', /demo\.yaml$/);
      assert.equal((await api(aud, '/policies', { method: 'PUT', body: { signup: 'closed' } })).status, 403);
      const hal = await signIn(ids.hal!);
      assert.equal((await api(hal, '/policies')).status, 403);

      const admin = await signIn(ids.ada!);
      await withTenant(facet.database.db, demo, (trx) => trx.updateTable('console_sessions').set({ acr: 'urn:facet:acr:passkey+otp', auth_time: new Date() }).where('user_id', '=', ids.ada!).execute());
      const managed = await api(admin, '/policies', { method: 'PUT', body: { signup: 'closed' } });
      assert.equal(managed.status, 409);
      assert.equal(((await managed.json()) as { code: string }).code, 'managed_by_file');

      // A tenant made without a file: its admin changes the policies after a step-up.
      const bare = await createTenant(facet.database.db, { slug: 'bare', name: 'Bare Org', settings: { signup: 'open' } as never }, { kek: facet.config.kek, actor: 'test' });
      const boss = await withTenant(facet.database.db, bare, async (trx) => {
        const user = await createUser(trx, { username: 'boss', email: 'boss@bare.example' });
        await grantRole(trx, { userId: user.id, role: 'admin', source: 'cli', actor: 'test' });
        return user.id;
      });
      const bareAdmin = await signIn(boss, 'bare');
      const put = (body: unknown) => api(bareAdmin, '/policies', { method: 'PUT', body, slug: 'bare' });
      assert.equal(((await (await put({ signup: 'closed' })).json()) as { code: string }).code, 'step_up_required');
      await withTenant(facet.database.db, bare, (trx) => trx.updateTable('console_sessions').set({ acr: 'urn:facet:acr:passkey+otp', auth_time: new Date() }).where('user_id', '=', boss).execute());
      const outOfRange = await put({ refresh_tokens: { grace_seconds: 61 } });
      assert.equal(outOfRange.status, 400);
      assert.match(((await outOfRange.json()) as { detail: string }).detail, /grace_seconds/);
      assert.equal((await put({ colour: 'red' })).status, 400);
      const changed = await put({ signup: 'invite', refresh_tokens: { grace_seconds: 5 } });
      assert.equal(changed.status, 200, await changed.clone().text());
      const now = (await (await api(bareAdmin, '/policies', { slug: 'bare' })).json()) as { policies: { signup: string; refresh_tokens: { grace_seconds: number; idle_timeout_seconds: number } }; managedBy: string | null };
      assert.equal(now.policies.signup, 'invite');
      assert.equal(now.policies.refresh_tokens.grace_seconds, 5);
      assert.equal(now.policies.refresh_tokens.idle_timeout_seconds, 14 * 24 * 3600);
      assert.equal(now.managedBy, null);
      const event = await withTenant(facet.database.db, bare, (trx) => trx.selectFrom('audit_events').select('actor').where('type', '=', 'tenant.settings_changed').executeTakeFirst());
      assert.equal(event?.actor, boss);
    });

    test("tenant isolation: a demo console session is nobody at another tenant's console", async () => {
      const admin = await signIn(ids.ada!);
      // The cookie is scoped to /t/demo/console: a browser never sends it to /t/other/…; sent anyway, it names no session there.
      const cookie = admin.jar.header(new URL(`${facet.baseUrl}/t/demo/console/api`));
      const response = await fetch(`${facet.baseUrl}/t/other/console/api/users`, { headers: { cookie } });
      assert.equal(response.status, 401);
      // And the demo admin's sub, signed in at "other", holds no role there (it is no user there at all).
      const elsewhere = await signIn(ids.ada!, 'other');
      assert.notEqual(elsewhere.status, 200);
    });

    test('the tenant file grants admins by email, also to a user who signs up after the apply', async () => {
      const other = (await findTenant(facet.database.db, 'other'))!;
      const olga = await withTenant(facet.database.db, other, (trx) => createUser(trx, { username: 'olga', email: 'olga@other.example' }));
      const signedIn = await signIn(olga.id, 'other');
      assert.equal(signedIn.status, 200, signedIn.text);
      const grant = await withTenant(facet.database.db, other, (trx) =>
        trx.selectFrom('admin_roles').select(['role', 'source']).where('user_id', '=', olga.id).execute(),
      );
      assert.deepEqual(grant, [{ role: 'admin', source: 'file' }]);
      const events = await withTenant(facet.database.db, other, (trx) => trx.selectFrom('audit_events').select('type').where('subject', '=', olga.id).execute());
      assert.ok(events.some((e) => e.type === 'admin.role_granted'));
    });
  });
}
