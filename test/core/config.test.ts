// Configuration: working defaults in development, fail-fast in production.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { DEV_SECRETS } from '../../src/config/dev-secrets.ts';
import { projectRoot, startTestFacet, type TestFacet } from '../support/facet.ts';

const random = (bytes = 32) => randomBytes(bytes).toString('base64url');
const cookieKeys = [random(), random()];
const realSecrets = {
  PUBLIC_URL: 'https://id.example.com',
  TRUST_PROXY: 'true',
  FACET_KEK: random(),
  FACET_TOKEN_HASH_KEY: random(),
  FACET_COOKIE_KEYS: cookieKeys.join(','),
  FACET_EMBEDDING_KEYS: random(),
  METRICS_TOKEN: random(),
};

/** Asserts that production refuses `env` with a ConfigError matching every pattern. */
function refuses(env: Record<string, string>, ...patterns: RegExp[]) {
  assert.throws(() => loadConfig({ NODE_ENV: 'production', ...realSecrets, ...env }), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /^refusing to start in production:/);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

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
  assert.deepEqual(config.cookieKeys, cookieKeys);
  assert.equal(config.metricsToken, realSecrets.METRICS_TOKEN);
  assert.equal(config.trustProxy, true);
});

// Strength: keys with a binary format are decoded and their bytes counted; free-form secrets need
// ≥ 43 characters (32 bytes in base64url); every secret must not be a repeated block nor estimate
// under 128 bits (length × Shannon entropy of its own characters). See src/config/secret-strength.ts.
describe('production refuses weak secrets, naming each', () => {
  test('a one-character cookie key (it also keys CSRF tokens and invite signatures)', () => {
    refuses({ FACET_COOKIE_KEYS: 'x' }, /FACET_COOKIE_KEYS is 1 characters; it must be at least 43/);
  });

  test('a weak old cookie key in the rotation list (every key verifies)', () => {
    refuses({ FACET_COOKIE_KEYS: `${cookieKeys[0]},old-cookie-key` }, /FACET_COOKIE_KEYS \(key 2 of 2\) is 14 characters/);
  });

  test('long but one repeated character or block', () => {
    refuses({ FACET_COOKIE_KEYS: 'a'.repeat(64) }, /FACET_COOKIE_KEYS is one short block repeated/);
    refuses({ METRICS_TOKEN: 'metrics!'.repeat(8) }, /METRICS_TOKEN is one short block repeated/);
  });

  test('long but low-entropy: 32 equal bytes, a two-letter alphabet', () => {
    refuses({ FACET_KEK: Buffer.alloc(32, 1).toString('base64url') }, /FACET_KEK looks low-entropy \(about 86 bits estimated, 128 needed\)/);
    refuses({ FACET_COOKIE_KEYS: 'ab'.repeat(10) + 'ba'.repeat(12) }, /FACET_COOKIE_KEYS looks low-entropy/);
  });

  test('FACET_KEK must decode to exactly 32 bytes of strict base64url', () => {
    refuses({ FACET_KEK: random(16) }, /FACET_KEK decodes to 16 bytes; it must be exactly 32/);
    refuses({ FACET_KEK: random(48) }, /FACET_KEK decodes to 48 bytes; it must be exactly 32/);
    refuses({ FACET_KEK: `${random()}!` }, /FACET_KEK is not base64url/);
  });

  test('FACET_TOKEN_HASH_KEY must decode to at least 32 bytes', () => {
    refuses({ FACET_TOKEN_HASH_KEY: random(20) }, /FACET_TOKEN_HASH_KEY decodes to 20 bytes; it must be at least 32/);
    assert.equal(loadConfig({ NODE_ENV: 'production', ...realSecrets, FACET_TOKEN_HASH_KEY: random(64) }).production, true);
  });

  test('every Fernet key must decode to 32 bytes (Fernet keys are 32 bytes by construction)', () => {
    refuses({ FACET_EMBEDDING_KEYS: random(31) }, /FACET_EMBEDDING_KEYS decodes to 31 bytes; it must be exactly 32/);
    refuses({ FACET_EMBEDDING_KEYS: `${random()},${random(33)}` }, /FACET_EMBEDDING_KEYS \(key 2 of 2\) decodes to 33 bytes/);
    refuses({ FACET_FACTOR_KEYS: 'not+base64url/' }, /FACET_FACTOR_KEYS is not base64url/);
    // The padded form Python's cryptography library prints is accepted.
    const padded = `${randomBytes(32).toString('base64url')}=`;
    assert.deepEqual(loadConfig({ NODE_ENV: 'production', ...realSecrets, FACET_EMBEDDING_KEYS: padded }).embeddingKeys, [padded]);
  });

  test('METRICS_TOKEN is a secret too', () => {
    refuses({ METRICS_TOKEN: 'letmein' }, /METRICS_TOKEN is 7 characters; it must be at least 43/);
  });

  test('one value used for two secrets', () => {
    refuses({ METRICS_TOKEN: realSecrets.FACET_KEK }, /METRICS_TOKEN repeats a value of FACET_KEK/);
  });

  test('hex and standard base64 of 32 random bytes are accepted', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      ...realSecrets,
      FACET_COOKIE_KEYS: randomBytes(32).toString('hex'),
      METRICS_TOKEN: randomBytes(32).toString('base64'),
    });
    assert.equal(config.cookieKeys[0]!.length, 64);
  });

  test('every problem is listed in one error', () => {
    refuses(
      { PUBLIC_URL: 'http://id.example.com', TRUST_PROXY: 'false', FACET_KEK: 'k', FACET_TOKEN_HASH_KEY: 'h', FACET_COOKIE_KEYS: 'c', FACET_EMBEDDING_KEYS: 'e', METRICS_TOKEN: 'm' },
      /PUBLIC_URL must be https/,
      /TRUST_PROXY must be true/,
      /FACET_KEK is not base64url/,
      /FACET_TOKEN_HASH_KEY is not base64url/,
      /FACET_COOKIE_KEYS is 1 characters/,
      /FACET_EMBEDDING_KEYS is not base64url/,
      /METRICS_TOKEN is 1 characters/,
    );
  });
});

describe('production needs https, the proxy setting and a metrics token', () => {
  test('an http PUBLIC_URL is refused, with or without TRUST_PROXY', () => {
    refuses({ PUBLIC_URL: 'http://id.example.com' }, /PUBLIC_URL must be https:\/\/ in production .*not http:\/\/id\.example\.com/);
    refuses({ PUBLIC_URL: 'http://id.example.com', TRUST_PROXY: 'false' }, /PUBLIC_URL must be https/, /TRUST_PROXY must be true/);
  });

  test('without TRUST_PROXY Facet could not set one Secure cookie, so it is refused', () => {
    refuses({ TRUST_PROXY: 'false' }, /TRUST_PROXY must be true in production: .*X-Forwarded-Proto: https/);
    refuses({ TRUST_PROXY: '0' }, /TRUST_PROXY must be true/);
  });

  test('behind a TLS-terminating proxy: https PUBLIC_URL and TRUST_PROXY are accepted, cookies Secure', () => {
    const config = loadConfig({ NODE_ENV: 'production', ...realSecrets, TRUST_PROXY: '1' });
    assert.equal(config.publicUrl, 'https://id.example.com');
    assert.equal(config.trustProxy, true);
    assert.equal(config.secureCookies, true);
  });

  test('METRICS_TOKEN is required', () => {
    const { METRICS_TOKEN: _unused, ...withoutToken } = realSecrets;
    assert.throws(() => loadConfig({ NODE_ENV: 'production', ...withoutToken }), /METRICS_TOKEN is required in production/);
  });

  test('development and test still need nothing: http, no proxy, no token, dev secrets', () => {
    for (const NODE_ENV of ['development', 'test']) {
      const config = loadConfig({ NODE_ENV });
      assert.equal(config.secureCookies, false);
      assert.equal(config.metricsToken, undefined);
      assert.equal(config.cookieKeys[0], DEV_SECRETS.FACET_COOKIE_KEYS);
    }
  });
});

test('`npm start` in production with the issue\'s weak values exits before listening, listing each', async () => {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', FACET_DATA_DIR: 'memory://', LOG_LEVEL: 'silent' };
  Object.assign(env, realSecrets, { PUBLIC_URL: 'http://id.example.com', FACET_COOKIE_KEYS: 'x' });
  delete env.METRICS_TOKEN;
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(stderr, /^facet: refusing to start in production:/);
  assert.match(stderr, /PUBLIC_URL must be https/);
  assert.match(stderr, /FACET_COOKIE_KEYS is 1 characters/);
  assert.match(stderr, /METRICS_TOKEN is required in production/);
});

describe('a strong production configuration boots and serves over HTTP', () => {
  let facet: TestFacet;
  // The demo tenant's client secrets (its admin API machine client's too) come from the environment in production.
  const tenantSecrets = { DEMO_WEB_SECRET: random(), DEMO_SERVICE_SECRET: random(), DEMO_ADMIN_SECRET: random() };
  before(async () => {
    Object.assign(process.env, tenantSecrets);
    facet = await startTestFacet({
      env: { NODE_ENV: 'production', ...realSecrets, PUBLIC_URL: 'https://id.example.test', FACET_TEST_HELPERS: '0' },
    });
  });
  after(async () => {
    await facet?.close();
    for (const name of Object.keys(tenantSecrets)) delete process.env[name];
  });

  test('/metrics without the token is 401; with it, 200', async () => {
    assert.equal(facet.config.production, true);
    const open = await fetch(`${facet.baseUrl}/metrics`);
    assert.equal(open.status, 401);
    assert.equal(open.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    const wrong = await fetch(`${facet.baseUrl}/metrics`, { headers: { authorization: `Bearer ${random()}` } });
    assert.equal(wrong.status, 401);
    const scraped = await fetch(`${facet.baseUrl}/metrics`, { headers: { authorization: `Bearer ${realSecrets.METRICS_TOKEN}` } });
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /^# HELP /m);
  });

  test('a request the TLS-terminating proxy marks X-Forwarded-Proto: https gets Secure cookies', async () => {
    const authorize = new URL(`${facet.baseUrl}/t/demo/auth`);
    authorize.search = new URLSearchParams({
      client_id: 'demo-web',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'http://localhost:3001/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGEm-cM1ZQ',
      code_challenge_method: 'S256',
    }).toString();
    const response = await fetch(authorize, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(response.status, 303);
    const cookies = response.headers.getSetCookie();
    assert.ok(cookies.length > 0);
    for (const cookie of cookies) assert.match(cookie, /; secure/i, cookie);
  });
});

test('malformed values are reported precisely', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/);
  assert.throws(() => loadConfig({ PUBLIC_URL: 'not a url' }), /PUBLIC_URL/);
});

test('production checks every key of FACET_KEK for the published development value', () => {
  refuses({ FACET_KEK: `${random()},${DEV_SECRETS.FACET_KEK}` }, /FACET_KEK \(key 2 of 2\) holds a published development value/);
  refuses({ FACET_KEK: `${DEV_SECRETS.FACET_KEK}, ${random()}` }, /FACET_KEK \(key 1 of 2\) holds a published development value/);
  refuses({ FACET_KEK: ' , ' }, /FACET_KEK is required in production/);
  assert.equal(loadConfig({ NODE_ENV: 'production', ...realSecrets, FACET_KEK: `${random()},${random()}` }).production, true);
});

describe('FACET_FACE_WORKERS', () => {
  test('sizes the face engine; unset leaves the default (one worker)', () => {
    assert.equal(loadConfig({ FACET_FACE_WORKERS: '3' }).faceWorkers, 3);
    assert.equal(loadConfig({}).faceWorkers, undefined);
  });
  for (const value of ['', '0', '-1', '1.5', 'two', '65']) {
    test(`FACET_FACE_WORKERS=${JSON.stringify(value)} is refused at load`, () => {
      assert.throws(() => loadConfig({ FACET_FACE_WORKERS: value }), (error: unknown) => error instanceof ConfigError && error.message.includes('FACET_FACE_WORKERS'));
    });
  }
});
