// Tenant files: validation with specific messages, the published JSON Schema, secrets policy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseTenantFile, readTenantFile, tenantJsonSchema, TenantFileError } from '../../src/tenancy/tenant-file.ts';
import { resolveSecret, ClientSecretError } from '../../src/oidc/clients.ts';
import { projectRoot } from '../support/facet.ts';

test('the demo tenant file is valid and has the three documented clients', async () => {
  const demo = await readTenantFile(path.join(projectRoot, 'tenants/demo.yaml'));
  assert.equal(demo.slug, 'demo');
  assert.equal(demo.settings.signup, 'open');
  const ids = demo.clients.map((c) => c.client_id).sort();
  assert.deepEqual(ids, ['demo-admin', 'demo-service', 'demo-web']);
  const web = demo.clients.find((c) => c.client_id === 'demo-web')!;
  assert.deepEqual(web.grant_types, ['authorization_code', 'refresh_token']);
  const service = demo.clients.find((c) => c.client_id === 'demo-service')!;
  assert.deepEqual(service.grant_types, ['client_credentials']);
  const admin = demo.clients.find((c) => c.client_id === 'demo-admin')!;
  assert.deepEqual([admin.grant_types, admin.admin_scopes], [['client_credentials'], ['admin:read', 'admin:write', 'audit:read']]);
});

test('the committed JSON Schema matches the zod schema', () => {
  const committed = JSON.parse(readFileSync(path.join(projectRoot, 'tenants/tenant.schema.json'), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(tenantJsonSchema())), 'run: node scripts/tenant-schema.ts');
});

const cases: Array<[string, string, RegExp]> = [
  ['not YAML', 'slug: [unclosed', /not valid YAML/],
  ['unknown key', 'slug: a1\nname: A\ncolour: red', /Unrecognized key.*colour/],
  ['confidential client without secret', 'slug: a1\nname: A\nclients:\n  - client_id: web\n    grant_types: [client_credentials]', /clients\.0\.secret: client_secret_basic needs a secret/],
  ['code grant without redirect', 'slug: a1\nname: A\nclients:\n  - client_id: web\n    token_endpoint_auth_method: none\n    grant_types: [authorization_code]', /redirect_uris: authorization_code needs at least one redirect URI/],
  ['secret by value instead of reference', 'slug: a1\nname: A\nclients:\n  - client_id: svc\n    grant_types: [client_credentials]\n    secret: hunter2', /clients\.0\.secret/],
  ['grace window out of range', 'slug: a1\nname: A\nsettings:\n  refresh_tokens:\n    grace_seconds: 61', /grace_seconds/],
  ['duplicate client ids', 'slug: a1\nname: A\nclients:\n  - client_id: svc\n    token_endpoint_auth_method: none\n    grant_types: [authorization_code]\n    redirect_uris: [https://a.example/cb]\n  - client_id: svc\n    token_endpoint_auth_method: none\n    grant_types: [authorization_code]\n    redirect_uris: [https://a.example/cb]', /client_id svc appears twice/],
];
for (const [name, text, message] of cases) {
  test(`a tenant file with ${name} is refused with a specific message`, () => {
    assert.throws(() => parseTenantFile(text, 'x.yaml'), (error: unknown) => {
      assert.ok(error instanceof TenantFileError);
      assert.match((error as Error).message, message);
      return true;
    });
  });
}

test('secrets: development falls back to the documented value; production refuses missing and dev values', () => {
  assert.equal(resolveSecret('c', 'C_SECRET', 'dev-value-0000000000', false, {}), 'dev-value-0000000000');
  const strong = 'Q2hvc2VuLWJ5LWEtdmF1bHQ6IDMyIHJhbmRvbSBieXRlcyBoZXJl'; // ≥ 43 characters, not a pattern
  assert.equal(resolveSecret('c', 'C_SECRET', 'dev-value-0000000000', true, { C_SECRET: strong }), strong);
  // Client secrets and admin tokens are held to the installation secrets' strength in production.
  assert.throws(() => resolveSecret('c', 'C_SECRET', 'dev-value-0000000000', true, { C_SECRET: 'a-real-secret-from-the-vault' }), /client c: C_SECRET is 28 characters; it must be at least 43/);
  assert.throws(() => resolveSecret('c', 'C_SECRET', null, true, { C_SECRET: 'x'.repeat(50) }), /C_SECRET is one short block repeated/);
  assert.equal(resolveSecret('c', 'C_SECRET', null, false, { C_SECRET: 'short-in-development' }), 'short-in-development');
  assert.throws(() => resolveSecret('c', 'C_SECRET', 'dev-value-0000000000', true, {}), ClientSecretError);
  assert.throws(() => resolveSecret('c', 'C_SECRET', 'dev-value-0000000000', true, { C_SECRET: 'dev-value-0000000000' }), /published development secret/);
  assert.throws(() => resolveSecret('c', 'C_SECRET', null, false, {}), /set C_SECRET/);
});
