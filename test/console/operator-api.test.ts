// The platform operator console (issue 12) over HTTP on real PostgreSQL: operators are users with
// the `operator` role in FACET_OPERATOR_TENANT, signed in through that tenant's OIDC (built-in
// client, code + PKCE, finished by the test helper); /operator/api lists tenants with status, pool
// state and pending migrations, creates, disables and enables one, applies a tenant file; a user
// without the role gets 403; a disabled tenant's issuer says it is disabled.
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { finishInteractions } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { grantOperator, grantRole } from '../../src/admin/roles.ts';

interface TenantView {
  slug: string;
  status: string;
  operatorTenant: boolean;
  pool: { warm: boolean; inFlight: number };
  migrations: { pending: string[] };
}

describe('operator console', () => {
  let facet: TestFacet;
  const ids: Record<string, string> = {};

  before(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'facet-operator-'));
    await writeFile(path.join(dir, 'demo.yaml'), await readFile(path.join(projectRoot, 'tenants/demo.yaml'), 'utf8'));
    await writeFile(path.join(dir, 'ops.yaml'), 'slug: ops\nname: Platform operators\nsettings: { signup: closed }\n');
    facet = await startTestFacet({ database: 'postgres', tenantsDir: dir, env: { FACET_OPERATOR_TENANT: 'ops' } });
    const ops = (await findTenant(facet.database.db, 'ops'))!;
    await withTenant(facet.database.db, ops, async (trx) => {
      for (const name of ['olive', 'nancy']) ids[name] = (await createUser(trx, { username: name })).id;
      await grantOperator(trx, { userId: ids.olive!, source: 'cli', actor: 'test' });
      // A tenant admin of the operator tenant is not an operator.
      await grantRole(trx, { userId: ids.nancy!, role: 'admin', source: 'cli', actor: 'test' });
    });
    // A demo admin (with the same username) is nothing here either.
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    await withTenant(facet.database.db, demo, async (trx) => {
      ids.demoAdmin = (await createUser(trx, { username: 'olive' })).id;
      await grantRole(trx, { userId: ids.demoAdmin, role: 'admin', source: 'cli', actor: 'test' });
    });
  });
  after(async () => facet?.close());

  async function signIn(sub: string) {
    const jar = new CookieJar();
    const origin = facet.baseUrl;
    let step = await followRedirects(`${origin}/console`, jar, { origin });
    step = await finishInteractions(step, jar, { origin, sub });
    assert.ok(step.response, `stopped at ${step.url}`);
    const text = await step.response.text();
    return { jar, status: step.response.status, text, csrf: /data-csrf="([^"]+)"/.exec(text)?.[1] ?? '' };
  }
  /** The step-up itself runs through Facet's pages (test/browser/console.test.ts); here the session is given its result. */
  const stepUp = async (userId: string, at = new Date()) => {
    const ops = (await findTenant(facet.database.db, 'ops'))!;
    await withTenant(facet.database.db, ops, (trx) => trx.updateTable('console_sessions').set({ acr: 'urn:facet:acr:passkey+otp', auth_time: at }).where('user_id', '=', userId).execute());
  };
  const api = (who: { jar: CookieJar; csrf: string } | null, route: string, init: { method?: string; body?: unknown; csrf?: string | null } = {}) =>
    fetch(`${facet.baseUrl}/operator/api${route}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(who ? { cookie: who.jar.header(new URL(`${facet.baseUrl}/operator/api`)) } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(who && init.csrf !== null ? { 'x-facet-csrf': init.csrf ?? who.csrf } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });

  test('sign-in goes through the operator tenant’s own OIDC with the built-in client; the session cookie is HttpOnly and SameSite=Strict; the page carries its script under the nonce', async () => {
    const first = await fetch(`${facet.baseUrl}/console`, { redirect: 'manual' });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/console/sign-in');
    const start = await fetch(`${facet.baseUrl}/console/sign-in`, { redirect: 'manual' });
    const auth = new URL(start.headers.get('location')!, facet.baseUrl);
    assert.equal(auth.pathname, '/t/ops/auth');
    assert.equal(auth.searchParams.get('client_id'), 'facet-console');
    assert.equal(auth.searchParams.get('redirect_uri'), `${facet.baseUrl}/console/callback`);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(auth.searchParams.get('acr_values'), 'urn:facet:acr:passkey');
    // Another tenant's console client may not use the platform callback.
    const elsewhere = new URL(auth);
    elsewhere.pathname = '/t/demo/auth';
    const refused = await fetch(elsewhere, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(refused.status, 400);

    // Every Set-Cookie on the way: the session cookie is HttpOnly, SameSite=Strict, signed.
    const seen: string[] = [];
    class RecordingJar extends CookieJar {
      override store(response: Response) {
        seen.push(...response.headers.getSetCookie());
        return super.store(response);
      }
    }
    const recording = new RecordingJar();
    const done = await finishInteractions(await followRedirects(`${facet.baseUrl}/console`, recording, { origin: facet.baseUrl }), recording, { origin: facet.baseUrl, sub: ids.olive! });
    assert.equal(done.response?.status, 200);
    const session = seen.find((c) => c.startsWith('facet_operator='));
    assert.ok(session, seen.join('\n'));
    assert.match(session, /; path=\/;/i);
    assert.match(session, /httponly/i);
    assert.match(session, /samesite=strict/i);
    assert.ok(seen.some((c) => c.startsWith('facet_operator.sig=')), 'signed');

    const olive = await signIn(ids.olive!);
    assert.equal(olive.status, 200, olive.text.slice(0, 300));
    assert.match(olive.text, /<div id="operator"/);
    assert.match(olive.text, /\/assets\/build\/operator\.js" nonce="/);
    const cookie = olive.jar.header(new URL(`${facet.baseUrl}/operator/api`));
    assert.match(cookie, /facet_operator=/);
  });

  test('a user without the operator role gets 403 (the page and every API route); no session, 401', async () => {
    const nancy = await signIn(ids.nancy!);
    assert.equal(nancy.status, 403);
    assert.match(nancy.text, /do not hold the operator role/);
    const none = await api(null, '/tenants');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('content-type'), 'application/problem+json');
    // Even with a session of another kind: a demo tenant admin's console session is not an operator's.
    const demoJar = new CookieJar();
    let step = await followRedirects(`${facet.baseUrl}/t/demo/console`, demoJar, { origin: facet.baseUrl });
    step = await finishInteractions(step, demoJar, { origin: facet.baseUrl, sub: ids.demoAdmin! });
    assert.equal(step.response?.status, 200);
    const asDemoAdmin = await fetch(`${facet.baseUrl}/operator/api/tenants`, { headers: { cookie: demoJar.header(new URL(`${facet.baseUrl}/operator/api`)) } });
    assert.equal(asDemoAdmin.status, 401);
  });

  test('an operator lists tenants with status, pool state and migrations', async () => {
    const olive = await signIn(ids.olive!);
    const response = await api(olive, '/tenants');
    assert.equal(response.status, 200);
    const { tenants } = (await response.json()) as { tenants: TenantView[] };
    assert.deepEqual(tenants.map((t) => t.slug).sort(), ['demo', 'ops']);
    const ops = tenants.find((t) => t.slug === 'ops')!;
    assert.equal(ops.operatorTenant, true);
    assert.equal(ops.status, 'active');
    assert.equal(ops.pool.warm, true, 'the operator tenant served the sign-in, so it is warm');
    assert.deepEqual(ops.migrations.pending, []);
  });

  test('an operator creates a tenant, disables it (its issuer says so, audited), enables it again', async () => {
    const olive = await signIn(ids.olive!);
    // Writes need the session's CSRF token.
    const forged = await api(olive, '/tenants', { method: 'POST', body: { slug: 'acme' }, csrf: null });
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as { code: string }).code, 'csrf_failed');
    assert.equal(await findTenant(facet.database.db, 'acme'), undefined);

    // Writes need a step-up to the operator tenant's admin acr within 5 minutes.
    const notStepped = await api(olive, '/tenants', { method: 'POST', body: { slug: 'acme' } });
    assert.equal(notStepped.status, 403);
    const stepProblem = (await notStepped.json()) as { code: string; acr: string; redirect: string };
    assert.deepEqual([stepProblem.code, stepProblem.acr, stepProblem.redirect], ['step_up_required', 'urn:facet:acr:passkey+otp', '/console/step-up']);
    const startStepUp = await fetch(`${facet.baseUrl}/console/step-up`, { redirect: 'manual', headers: { cookie: olive.jar.header(new URL(`${facet.baseUrl}/console/step-up`)) } });
    const stepAuth = new URL(startStepUp.headers.get('location')!, facet.baseUrl);
    assert.equal(stepAuth.pathname, '/t/ops/auth');
    assert.equal(stepAuth.searchParams.get('acr_values'), 'urn:facet:acr:passkey+otp');
    assert.equal(stepAuth.searchParams.get('max_age'), '300');
    await stepUp(ids.olive!, new Date(Date.now() - 301_000));
    assert.equal((await api(olive, '/tenants', { method: 'POST', body: { slug: 'acme' } })).status, 403, 'a step-up older than 5 minutes');
    await stepUp(ids.olive!);
    assert.equal(await findTenant(facet.database.db, 'acme'), undefined);

    const bad = await api(olive, '/tenants', { method: 'POST', body: { slug: 'No Spaces' } });
    assert.equal(bad.status, 400);
    const created = await api(olive, '/tenants', { method: 'POST', body: { slug: 'acme', name: 'Acme Corp' } });
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal(((await created.json()) as { tenant: TenantView }).tenant.status, 'active');
    assert.equal((await api(olive, '/tenants', { method: 'POST', body: { slug: 'acme' } })).status, 409);
    const discovery = `${facet.baseUrl}/t/acme/.well-known/openid-configuration`;
    assert.equal((await fetch(discovery)).status, 200);

    const disabled = await api(olive, '/tenants/acme/disable', { method: 'POST' });
    assert.equal(disabled.status, 200);
    assert.equal(((await disabled.json()) as { tenant: TenantView }).tenant.status, 'disabled');
    // The issuer answers a helpful error, as JSON for programs and as a page for browsers.
    const json = await fetch(discovery, { headers: { accept: 'application/json' } });
    assert.equal(json.status, 403);
    const problem = (await json.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'tenant_disabled');
    assert.match(problem.detail, /acme is disabled by the platform operator/);
    const pageAnswer = await fetch(`${facet.baseUrl}/t/acme/account`, { headers: { accept: 'text/html' } });
    assert.equal(pageAnswer.status, 403);
    assert.match(await pageAnswer.text(), /disabled by the platform operator/);
    const token = await fetch(`${facet.baseUrl}/t/acme/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) });
    assert.equal(token.status, 403);
    const acme = (await findTenant(facet.database.db, 'acme'))!;
    const events = await withTenant(facet.database.db, acme, (trx) => trx.selectFrom('audit_events').select(['type', 'actor']).where('type', 'in', ['tenant.created', 'tenant.disabled']).orderBy('id').execute());
    assert.deepEqual(events, [
      { type: 'tenant.created', actor: 'operator:olive' },
      { type: 'tenant.disabled', actor: 'operator:olive' },
    ]);

    // The operator tenant itself cannot be disabled from here.
    const self = await api(olive, '/tenants/ops/disable', { method: 'POST' });
    assert.equal(self.status, 409);
    assert.equal((await api(olive, '/tenants/nope/disable', { method: 'POST' })).status, 404);

    const enabled = await api(olive, '/tenants/acme/enable', { method: 'POST' });
    assert.equal(enabled.status, 200);
    assert.equal((await fetch(discovery)).status, 200);
  });

  test('an operator applies a tenant file; a bad one is a 422 naming the problem', async () => {
    const olive = await signIn(ids.olive!);
    await stepUp(ids.olive!);
    const yaml = 'slug: beta\nname: Beta\nclients:\n  - client_id: beta-bot\n    grant_types: [client_credentials]\n    secret: { env: BETA_BOT_SECRET, dev: beta-bot-dev-secret-0000 }\n    admin_scopes: [admin:read]\n';
    const applied = await api(olive, '/tenant-files', { method: 'POST', body: { yaml } });
    assert.equal(applied.status, 200, await applied.clone().text());
    const report = (await applied.json()) as { slug: string; created: boolean; clients: { added: string[] } };
    assert.equal(report.slug, 'beta');
    assert.equal(report.created, true);
    assert.deepEqual(report.clients.added, ['beta-bot']);
    const again = (await (await api(olive, '/tenant-files', { method: 'POST', body: { yaml } })).json()) as { created: boolean };
    assert.equal(again.created, false);

    const broken = await api(olive, '/tenant-files', { method: 'POST', body: { yaml: 'slug: gamma\nname: Gamma\nsettings:\n  admin_token: { env: X_ADMIN_TOKEN }\n' } });
    assert.equal(broken.status, 422);
    assert.match(((await broken.json()) as { detail: string }).detail, /admin_token is no longer supported/);
  });

  test('the operator API describes itself as valid OpenAPI 3.1 (no session needed)', async () => {
    const response = await fetch(`${facet.baseUrl}/operator/api/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.deepEqual(Object.keys(document.paths).sort(), ['/openapi.json', '/tenant-files', '/tenants', '/tenants/{slug}/disable', '/tenants/{slug}/enable']);
  });
});
