// Configuration: working defaults in development, fail-fast in production.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { DEV_SECRETS } from '../../src/config/dev-secrets.ts';

const realSecrets = {
  PUBLIC_URL: 'https://id.example.com',
  FACET_KEK: Buffer.alloc(32, 1).toString('base64url'),
  FACET_TOKEN_HASH_KEY: Buffer.alloc(32, 2).toString('base64url'),
  FACET_COOKIE_KEYS: 'a-long-random-cookie-key-1,a-long-random-cookie-key-0',
  FACET_EMBEDDING_KEYS: Buffer.alloc(32, 3).toString('base64url'),
};

test('development runs with zero configuration on embedded PGlite', () => {
  const config = loadConfig({});
  assert.equal(config.database.kind, 'pglite');
  assert.equal(config.publicUrl, 'http://localhost:3000');
  assert.equal(config.secureCookies, false);
  assert.equal(config.testHelpers, false);
});

test('DATABASE_URL selects real PostgreSQL', () => {
  assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://x@db/facet' }).database, { kind: 'postgres', url: 'postgres://x@db/facet' });
});

test('production refuses to start without its secrets, naming every one', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    for (const name of ['PUBLIC_URL', 'FACET_KEK', 'FACET_TOKEN_HASH_KEY', 'FACET_COOKIE_KEYS', 'FACET_EMBEDDING_KEYS']) {
      assert.match((error as Error).message, new RegExp(name));
    }
    return true;
  });
});

test('production refuses the published development secrets', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production', ...realSecrets, FACET_KEK: DEV_SECRETS.FACET_KEK }), /FACET_KEK holds a published development value/);
});

test('production refuses test helpers', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production', ...realSecrets, FACET_TEST_HELPERS: '1' }), /FACET_TEST_HELPERS/);
});

test('production starts with real secrets and secure cookies over https', () => {
  const config = loadConfig({ NODE_ENV: 'production', ...realSecrets });
  assert.equal(config.secureCookies, true);
  assert.deepEqual(config.cookieKeys, ['a-long-random-cookie-key-1', 'a-long-random-cookie-key-0']);
});

test('malformed values are reported precisely', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/);
  assert.throws(() => loadConfig({ PUBLIC_URL: 'not a url' }), /PUBLIC_URL/);
});
