// Applications through the console's admin API (issue 12): create, replace, rotate a secret (shown
// once), delete — every write behind a fresh step-up, audited, and in force at the token endpoint
// at once (the secret authenticates at introspection; the old one stops). Clients of the tenant
// file and the built-in console client are read-only (409). Bad input is a 400 whose `errors` names
// each field (RFC 9457 extension), the generic shape every console form shows beside its fields.
// On embedded PGlite, and on real PostgreSQL too when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { TestFacet } from '../support/facet.ts';
import { backends } from '../support/backends.ts';
import { consoleApi, consoleSignIn, createUserWithRole, freshStepUp, startFacetWithDemoCopy, type ConsoleSession } from '../support/console-session.ts';
import { eventually } from '../support/eventually.ts';
import { introspectAs as introspectAt } from '../support/introspection.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';

type FieldError = { in: string; pointer: string; detail: string };

for (const backend of backends) {
  describe(`applications through the console API (${backend})`, () => {
    let facet: TestFacet;
    let demo: TenantRecord;
    let admin: ConsoleSession;
    let helpdesk: ConsoleSession;
    const ids: Record<string, string> = {};

    const api = (who: ConsoleSession, route: string, init: { method?: string; body?: unknown } = {}) => consoleApi(facet, who, route, init);
    const stepUp = (userId: string) => freshStepUp(facet, demo, userId);
    const introspectAs = (clientId: string, secret: string) => introspectAt(facet.baseUrl, clientId, secret);

    before(async () => {
      ({ facet, demo } = await startFacetWithDemoCopy(backend));
      const ada = (ids.ada = await createUserWithRole(facet, demo, 'ada', 'admin'));
      const hal = (ids.hal = await createUserWithRole(facet, demo, 'hal', 'helpdesk'));
      admin = await consoleSignIn(facet, ada);
      helpdesk = await consoleSignIn(facet, hal);
    });
    after(async () => facet?.close());

    const app = {
      clientId: 'orders-portal',
      name: 'Orders portal',
      redirectUris: ['https://orders.example/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      authMethod: 'client_secret_basic',
      firstParty: false,
      minimumAcr: 'urn:facet:acr:passkey',
      refreshGraceSeconds: 5,
    };

    test('every client write needs a fresh step-up; helpdesk may not touch clients at all', async () => {
      const refused = await api(admin, '/clients', { method: 'POST', body: app });
      assert.equal(refused.status, 403);
      assert.equal(((await refused.json()) as { code: string }).code, 'step_up_required');
      const helpdeskList = await api(helpdesk, '/clients');
      assert.deepEqual([helpdeskList.status, ((await helpdeskList.json()) as { code: string }).code], [403, 'role_forbidden']);
    });

    test('bad input: a 400 whose errors name each field (the shape every console form shows)', async () => {
      await stepUp(ids.ada!);
      const bad = await api(admin, '/clients', { method: 'POST', body: { ...app, name: ' ', redirectUris: ['javascript:alert(1)', 'https://x.example/cb#frag'], refreshGraceSeconds: 61 } });
      assert.equal(bad.status, 400);
      const problem = (await bad.json()) as { code: string; errors: FieldError[] };
      assert.equal(problem.code, 'invalid_parameters');
      const pointers = problem.errors.map((e) => e.pointer).sort();
      assert.deepEqual(pointers, ['#/name', '#/redirectUris/0', '#/redirectUris/1', '#/refreshGraceSeconds']);
      assert.ok(problem.errors.every((e) => e.in === 'body' && e.detail.length > 0));
      assert.match(problem.errors.find((e) => e.pointer === '#/redirectUris/1')!.detail, /fragment/);

      // Rules across fields land on the field to change.
      const cross = (await (await api(admin, '/clients', { method: 'POST', body: { ...app, redirectUris: [] } })).json()) as { errors: FieldError[] };
      assert.deepEqual(cross.errors.map((e) => [e.pointer, e.detail]), [['#/redirectUris', 'authorization_code needs at least one redirect URI']]);
      const publicMachine = (await (await api(admin, '/clients', { method: 'POST', body: { ...app, redirectUris: [], grantTypes: ['client_credentials'], authMethod: 'none' } })).json()) as { errors: FieldError[] };
      assert.deepEqual(publicMachine.errors.map((e) => e.pointer), ['#/grantTypes']);
      // An acr outside the tenant's vocabulary, and a taken id.
      const acr = (await (await api(admin, '/clients', { method: 'POST', body: { ...app, minimumAcr: 'urn:nope' } })).json()) as { errors: FieldError[] };
      assert.deepEqual(acr.errors.map((e) => e.pointer), ['#/minimumAcr']);
      const taken = await api(admin, '/clients', { method: 'POST', body: { ...app, clientId: 'demo-web' } });
      assert.equal(taken.status, 409);
      assert.deepEqual(((await taken.json()) as { errors: FieldError[] }).errors.map((e) => e.pointer), ['#/clientId']);
      assert.equal(await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('clients').select('client_id').where('client_id', '=', 'orders-portal').executeTakeFirst()), undefined);
    });

    let firstSecret = '';
    test('create: the secret is answered once, sealed at rest, and authenticates at the token endpoint', async () => {
      await stepUp(ids.ada!);
      const created = await api(admin, '/clients', { method: 'POST', body: app });
      assert.equal(created.status, 201);
      const body = (await created.json()) as { client: Record<string, unknown>; secret: string };
      assert.match(body.secret, /^[A-Za-z0-9_-]{43}$/);
      firstSecret = body.secret;
      assert.deepEqual(
        { ...body.client, createdAt: undefined, updatedAt: undefined },
        {
          ...app,
          postLogoutRedirectUris: [],
          jwksUri: null,
          jwks: null,
          hasSecret: true,
          managedBy: 'admin API',
          readOnly: false,
          createdAt: undefined,
          updatedAt: undefined,
        },
      );
      // Never again: not in the list, not in the client's page, not in the database in the clear.
      const listed = await (await api(admin, '/clients')).text();
      assert.ok(!listed.includes(firstSecret));
      assert.ok(!(await (await api(admin, '/clients/orders-portal')).text()).includes(firstSecret));
      const row = await withTenant(facet.database.db, demo, (trx) => trx.selectFrom('clients').select(['secret_sealed', 'secret_env', 'source']).where('client_id', '=', 'orders-portal').executeTakeFirstOrThrow());
      assert.equal(row.source, 'admin');
      assert.equal(row.secret_env, null);
      assert.ok(row.secret_sealed && !row.secret_sealed.includes(firstSecret));
      await eventually('the new client authenticates', async () => (await introspectAs('orders-portal', firstSecret)) === 200);
      assert.equal(await introspectAs('orders-portal', 'wrong-secret-wrong-secret'), 401);
    });

    test('private_key_jwt: a client with its public key set authenticates with a signed assertion; bad key sets are named beside their field', async () => {
      await stepUp(ids.ada!);
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      const machine = { clientId: 'billing-job', name: 'Billing job', grantTypes: ['client_credentials'], authMethod: 'private_key_jwt' };
      const pointers = async (body: unknown) => {
        const r = await api(admin, '/clients', { method: 'POST', body });
        assert.equal(r.status, 400);
        return ((await r.json()) as { errors: Array<{ pointer: string; detail: string }> }).errors.map((e) => `${e.pointer} ${e.detail}`);
      };
      assert.deepEqual(await pointers(machine), ["#/jwks private_key_jwt needs the client's public keys: a key set URL or the key set itself"]);
      assert.deepEqual(await pointers({ ...machine, jwks: { keys: [await exportJWK(privateKey)] } }), ['#/jwks/keys/0 a public key only: remove its private part']);
      assert.deepEqual(await pointers({ ...machine, jwksUri: 'http://keys.example/jwks.json' }), ['#/jwksUri an https:// URL of a JSON Web Key Set']);
      assert.deepEqual(await pointers({ ...machine, authMethod: 'client_secret_basic', jwks: { keys: [jwk] } }), ['#/jwks keys are only used with private_key_jwt']);

      const created = await api(admin, '/clients', { method: 'POST', body: { ...machine, jwks: { keys: [jwk] } } });
      assert.equal(created.status, 201);
      const body = (await created.json()) as { client: { authMethod: string; jwks: unknown; jwksUri: unknown; hasSecret: boolean }; secret: string | null };
      assert.equal(body.secret, null, 'no secret for a key-authenticated client');
      assert.deepEqual({ authMethod: body.client.authMethod, jwks: body.client.jwks, jwksUri: body.client.jwksUri, hasSecret: body.client.hasSecret }, { authMethod: 'private_key_jwt', jwks: { keys: [jwk] }, jwksUri: null, hasSecret: false });
      const assertWith = async (key: CryptoKey) =>
        fetch(`${facet.baseUrl}/t/demo/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: 'billing-job',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: await new SignJWT({})
              .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
              .setIssuer('billing-job')
              .setSubject('billing-job')
              .setAudience(`${facet.baseUrl}/t/demo`)
              .setJti(randomUUID())
              .setIssuedAt()
              .setExpirationTime('1m')
              .sign(key),
          }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
      let answer = { status: 0, body: {} as Record<string, unknown> };
      await eventually('the key-authenticated client gets a token', async () => (answer = await assertWith(privateKey)).status === 200);
      assert.equal(answer.body.token_type, 'Bearer');
      const other = await generateKeyPair('ES256');
      const refused = await assertWith(other.privateKey);
      assert.equal(refused.status, 401, 'an assertion signed with another key');
      assert.equal(refused.body.error, 'invalid_client');
      const deleted = await api(admin, '/clients/billing-job', { method: 'DELETE' });
      assert.equal(deleted.status, 204);
    });

    test('rotate: a new secret, once; the old one stops working', async () => {
      const rotated = await api(admin, '/clients/orders-portal/secret', { method: 'POST' });
      assert.equal(rotated.status, 200);
      const { secret } = (await rotated.json()) as { secret: string };
      assert.notEqual(secret, firstSecret);
      await eventually('the old secret is refused', async () => (await introspectAs('orders-portal', firstSecret)) === 401);
      assert.equal(await introspectAs('orders-portal', secret), 200);
    });

    test('replace: settings change; a file client and the console client are read-only (409)', async () => {
      const { clientId: _id, ...settings } = app;
      const unknownField = await api(admin, '/clients/orders-portal', { method: 'PUT', body: app });
      assert.deepEqual(((await unknownField.json()) as { errors: FieldError[] }).errors.map((e) => e.pointer), ['#/'], 'the id is in the path, not the body');
      const changed = await api(admin, '/clients/orders-portal', { method: 'PUT', body: { ...settings, name: 'Orders', redirectUris: ['https://orders.example/cb2'], firstParty: true, minimumAcr: null, refreshGraceSeconds: null } });
      assert.equal(changed.status, 200);
      const body = (await changed.json()) as { client: { name: string; redirectUris: string[]; firstParty: boolean; minimumAcr: string | null; refreshGraceSeconds: number | null }; secret: string | null };
      assert.deepEqual([body.client.name, body.client.redirectUris, body.client.firstParty, body.client.minimumAcr, body.client.refreshGraceSeconds, body.secret], ['Orders', ['https://orders.example/cb2'], true, null, null, null]);
      for (const id of ['demo-web', 'facet-console']) {
        const refused = await api(admin, `/clients/${id}`, { method: 'PUT', body: settings });
        assert.equal(refused.status, 409, id);
        const problem = (await refused.json()) as { code: string; detail: string };
        assert.equal(problem.code, id === 'demo-web' ? 'managed_by_file' : 'built_in_client');
        if (id === 'demo-web') assert.match(problem.detail, /tenants\/demo\.yaml/);
        assert.equal((await api(admin, `/clients/${id}/secret`, { method: 'POST' })).status, 409);
        assert.equal((await api(admin, `/clients/${id}`, { method: 'DELETE' })).status, 409);
      }
      assert.equal((await api(admin, '/clients/no-such-app', { method: 'PUT', body: settings })).status, 404);
    });

    test('delete: gone from the list, its secret no longer authenticates; every change audited', async () => {
      assert.equal((await api(admin, '/clients/orders-portal', { method: 'DELETE' })).status, 204);
      const list = (await (await api(admin, '/clients')).json()) as { clients: Array<{ clientId: string }> };
      assert.ok(!list.clients.some((c) => c.clientId === 'orders-portal'));
      assert.equal((await api(admin, '/clients/orders-portal')).status, 404);
      await eventually('the deleted client is refused', async () => (await introspectAs('orders-portal', firstSecret)) === 401);
      const events = await withTenant(facet.database.db, demo, (trx) =>
        trx.selectFrom('audit_events').select(['type', 'actor', 'data']).where('client_id', '=', 'orders-portal').orderBy('id').execute(),
      );
      assert.deepEqual(
        events.map((e) => [e.type, e.actor]),
        [
          ['client.created', ids.ada],
          ['client.secret_rotated', ids.ada],
          ['client.updated', ids.ada],
          ['client.deleted', ids.ada],
        ],
      );
      assert.deepEqual((events[2]!.data as { fields: string[] }).fields.sort(), ['firstParty', 'minimumAcr', 'name', 'redirectUris', 'refreshGraceSeconds']);
    });
  });
}
