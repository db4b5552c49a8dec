// Purpose-bound key rings on real PostgreSQL: face templates under FACET_EMBEDDING_KEYS, TOTP
// seeds and NFC card keys under FACET_FACTOR_KEYS. The operator's rotation, end to end:
//   1. new first key in each ring, old key kept;
//   2. `facet keys rekey` (interrupted once, then run again: it continues);
//   3. old keys removed: boot passes, TOTP step-up codes still verify through factorSecretBox, NFC
//      card keys and face templates still open.
// Then a server started with only the new keys takes a TOTP step-up over HTTP to passkey+otp.
// Also: boot refuses a ring that cannot open stored TOTP secrets (and one that lacks the old key
// before the re-key), and a deployment with only FACET_EMBEDDING_KEYS keeps working with one warning.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { generateSync } from 'otplib';
import pino from 'pino';
import type { Context } from 'koa';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { DEV_SECRETS } from '../../src/config/dev-secrets.ts';
import { openConfiguredDatabase, migrateAll } from '../../src/boot.ts';
import type { Database } from '../../src/db/client.ts';
import { withTenant, type TenantScope } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import { findTenant, listTenants } from '../../src/tenancy/registry.ts';
import { createUser } from '../../src/accounts/users.ts';
import { createKeyRing, generateFernetKey, KeyRingError, type KeyRing } from '../../src/crypto/key-ring.ts';
import { createPurposeRings } from '../../src/crypto/purpose-rings.ts';
import { createTotpStore } from '../../src/factors/totp/store.ts';
import { createNfcCardStore } from '../../src/factors/nfc/store.ts';
import { loadTemplates, saveTemplate } from '../../src/face/templates/store.ts';
import { rekeyTenant } from '../../src/keys/sealed-data.ts';
import { createServices, type Services } from '../../src/services.ts';
import { factorSecretBox } from '../../src/interaction/step-up.ts';
import { freePort, projectRoot } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { discover } from '../support/rp.ts';
import * as client from 'openid-client';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { startFacet } from '../../src/server.ts';
import { csrfToken } from '../../src/interaction/http.ts';
import { csrfKey } from '../../src/interaction/flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const E1 = generateFernetKey();
const E2 = generateFernetKey();
const F1 = generateFernetKey();
const F2 = generateFernetKey();
const STRANGER = generateFernetKey();
const MODEL = 'test-model';
const NOW = 1_800_000_000;
const code = (secret: string, at: number) => generateSync({ secret, epoch: at });

const box = (ring: KeyRing) => ({ encrypt: (p: string) => ring.encrypt(Buffer.from(p, 'utf8')), decrypt: (t: string) => ring.decrypt(t).toString('utf8') });

interface Enrolled {
  tenant: TenantScope;
  totp: Array<{ userId: string; secret: string }>;
  cards: Array<{ userId: string; uid: string; metaReadKey: string; fileReadKey: string }>;
  faces: Array<{ userId: string; embedding: Float32Array }>;
}

function embedding(): Float32Array {
  const values = Float32Array.from({ length: 128 }, () => Math.random() - 0.5);
  const norm = Math.hypot(...values);
  return values.map((v) => v / norm);
}

function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

describe('purpose-bound key rings: rotate, re-key, drop the old keys', { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let database: Database;
  const emptyTenants = mkdtempSync(path.join(tmpdir(), 'facet-keys-'));
  const enrolled: Enrolled[] = [];
  /** A demo-tenant user whose authenticator app steps up over HTTP after the rotation. */
  let stepper: { userId: string; secret: string };

  const env = (keys: { embedding?: string[]; factor?: string[] }) => ({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    FACET_TENANTS_DIR: emptyTenants,
    FACET_MODELS_DIR: path.join(emptyTenants, 'no-models'),
    ...testDb.env,
    ...(keys.embedding ? { FACET_EMBEDDING_KEYS: keys.embedding.join(',') } : {}),
    ...(keys.factor ? { FACET_FACTOR_KEYS: keys.factor.join(',') } : {}),
  });
  const configWith = (keys: { embedding?: string[]; factor?: string[] }): Config => loadConfig(env(keys));

  async function boot(config: Config, logger = pino({ level: 'silent' })): Promise<Services> {
    return createServices({ config, db: database.db, logger, installation: 'test' });
  }

  function facetCli(keys: { embedding: string[]; factor: string[] }, ...args: string[]) {
    const result = spawnSync(process.execPath, [path.join(projectRoot, 'bin/facet.js'), ...args], { env: { ...process.env, ...env(keys) }, encoding: 'utf8', cwd: projectRoot });
    return { code: result.status, out: result.stdout, err: result.stderr };
  }

  before(async () => {
    testDb = await createTestDatabase('postgres');
    const config = configWith({ embedding: [E1], factor: [F1] });
    database = await openConfiguredDatabase(config);
    await migrateAll(database);
    const faceRing = createKeyRing([E1]);
    const totpStore = createTotpStore(box(createKeyRing([F1])));
    const cardStore = createNfcCardStore(box(createKeyRing([F1])));
    for (const [slug, n] of [['alpha', 5], ['beta', 2]] as const) {
      const tenant = await createTenant(database.db, { slug, name: slug }, { kek: config.kek });
      const entry: Enrolled = { tenant, totp: [], cards: [], faces: [] };
      await withTenant(database.db, tenant, async (trx) => {
        for (let i = 0; i < n; i += 1) {
          const user = await createUser(trx, { username: `user${i}` });
          const secret = base32(randomBytes(20));
          assert.equal(await totpStore.startEnrollment(trx, { userId: user.id, secret }), true);
          assert.equal((await totpStore.verifyCode(trx, { userId: user.id, code: code(secret, NOW), now: NOW, confirming: true })).ok, true);
          entry.totp.push({ userId: user.id, secret });
          const card = { userId: user.id, uid: randomBytes(7).toString('hex').toUpperCase(), metaReadKey: randomBytes(16).toString('hex').toUpperCase(), fileReadKey: randomBytes(16).toString('hex').toUpperCase() };
          assert.ok(await cardStore.addCard(trx, { ...card, name: `card ${i}` }));
          entry.cards.push(card);
          const face = { userId: user.id, embedding: embedding() };
          await saveTemplate(trx, faceRing, { userId: user.id, model: MODEL, embedding: face.embedding, quality: 0.9 });
          entry.faces.push(face);
        }
      });
      enrolled.push(entry);
    }
    // The demo tenant (with its RP client) and one user with an authenticator app, confirmed with
    // a code of ten minutes ago so that codes of the real clock verify later.
    await applyTenantFile(database.db, await readTenantFile(path.join(projectRoot, 'tenants/demo.yaml')), { kek: config.kek, production: false });
    const demo = (await findTenant(database.db, 'demo'))!;
    stepper = await withTenant(database.db, demo, async (trx) => {
      const user = await createUser(trx, { username: 'stepper' });
      const secret = base32(randomBytes(20));
      const past = Math.floor(Date.now() / 1000) - 600;
      await totpStore.startEnrollment(trx, { userId: user.id, secret });
      assert.equal((await totpStore.verifyCode(trx, { userId: user.id, code: code(secret, past), now: past, confirming: true })).ok, true);
      return { userId: user.id, secret };
    });
  });

  after(async () => {
    await database?.close();
    await testDb?.drop();
    rmSync(emptyTenants, { recursive: true, force: true });
  });

  test('before the re-key, dropping the old factor key is refused at boot (TOTP secrets named)', async () => {
    // What used to happen silently: the face ring still opens its templates, the factor ring not.
    await assert.rejects(boot(configWith({ embedding: [E2, E1], factor: [F2] })), (error: unknown) => {
      assert.ok(error instanceof KeyRingError);
      assert.equal(error.code, 'key_ring_cannot_decrypt');
      assert.match(error.message, /^tenant alpha: FACET_FACTOR_KEYS cannot decrypt \d+ of \d+ sampled TOTP secrets/);
      assert.match(error.message, /facet keys rekey --purpose factors/);
      return true;
    });
    await assert.rejects(boot(configWith({ embedding: [E2], factor: [F2, F1] })), /tenant alpha: FACET_EMBEDDING_KEYS cannot decrypt \d+ of \d+ sampled face templates/);
  });

  test('a re-key stopped after its first batch continues when run again, then everything opens under the new keys alone', async () => {
    const rotated = createPurposeRings({ embeddingKeys: [E2, E1], factorKeys: [F2, F1], factorKeysFallback: false });
    const alpha = enrolled[0]!;
    // A crash after the first committed batch of TOTP secrets (batches of 2).
    let batches = 0;
    await assert.rejects(
      rekeyTenant(database.db, alpha.tenant, rotated, ['factors'], {
        batchSize: 2,
        onBatch: () => {
          batches += 1;
          throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    assert.equal(batches, 1);
    const underNewKey = await withTenant(database.db, alpha.tenant, async (trx) => {
      const rows = await trx.selectFrom('totp_factors').select('secret_encrypted').execute();
      return rows.filter((r) => rotated.factorSecrets.open(r.secret_encrypted as string).keyId === rotated.factorSecrets.primaryKeyId).length;
    });
    assert.equal(underNewKey, 2, 'the first batch committed');

    const run = facetCli({ embedding: [E2, E1], factor: [F2, F1] }, 'keys', 'rekey', '--batch', '2');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /tenant alpha: factors totp_factors: 3 re-encrypted, 2 already current/);
    assert.match(run.out, /tenant alpha: factors nfc_cards: 5 re-encrypted, 0 already current/);
    assert.match(run.out, /tenant alpha: face face_templates: 5 re-encrypted, 0 already current/);
    assert.match(run.out, /tenant beta: factors totp_factors: 2 re-encrypted, 0 already current/);
    assert.match(run.out, /tenant demo: factors totp_factors: 1 re-encrypted, 0 already current/);
    assert.match(run.out, /total totp_factors: 6 re-encrypted, 2 already current/);
    assert.match(run.out, /total nfc_cards: 7 re-encrypted, 0 already current/);
    assert.match(run.out, /total face_templates: 7 re-encrypted, 0 already current/);
    assert.match(run.out, /factors: everything is under the first key of FACET_FACTOR_KEYS/);

    // Running it again finds nothing to do.
    const again = facetCli({ embedding: [E2, E1], factor: [F2, F1] }, 'keys', 'rekey', '--purpose', 'all');
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /total totp_factors: 0 re-encrypted, 8 already current/);
    assert.match(again.out, /total nfc_cards: 0 re-encrypted, 7 already current/);
    assert.match(again.out, /total face_templates: 0 re-encrypted, 0 already current/); // skipped by key_id
    const bad = facetCli({ embedding: [E2, E1], factor: [F2, F1] }, 'keys', 'rekey', '--purpose', 'passwords');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--purpose must be one of face, factors, all/);

    // The old keys are gone: boot passes, and every factor still works.
    const services = await boot(configWith({ embedding: [E2], factor: [F2] }));
    try {
      assert.notEqual(services.keys.factorSecrets, services.keys.faceTemplates);
      const totp = createTotpStore(factorSecretBox(services));
      const cards = createNfcCardStore(factorSecretBox(services));
      for (const { tenant, totp: secrets, cards: enrolledCards, faces } of enrolled) {
        await withTenant(database.db, tenant, async (trx) => {
          for (const { userId, secret } of secrets) {
            const later = NOW + 90;
            assert.deepEqual(await totp.verifyCode(trx, { userId, code: code(secret, later), now: later }), { ok: true, step: Math.floor(later / 30) });
            assert.deepEqual(await totp.verifyCode(trx, { userId, code: code(secret, later), now: later }), { ok: false, reason: 'code_reused' });
          }
          for (const card of enrolledCards) {
            const [stored] = await cards.listCards(trx, card.userId);
            assert.deepEqual([stored?.uid, stored?.metaReadKey, stored?.fileReadKey], [card.uid, card.metaReadKey, card.fileReadKey]);
          }
          for (const face of faces) {
            const [template] = await loadTemplates(trx, services.face.ring, face.userId);
            assert.deepEqual(template?.embedding, face.embedding);
          }
        });
      }
    } finally {
      await services.close();
    }
  });

  test('after the rotation, a TOTP step-up over HTTP on a server with only the new keys reaches passkey+otp', async () => {
    const port = await freePort();
    const config = loadConfig({ ...env({ embedding: [E2], factor: [F2] }), PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://localhost:${port}` });
    const running = await startFacet(config, { logger: pino({ level: 'silent' }) });
    try {
      const origin = `http://localhost:${port}`;
      const rp = await discover(`${origin}/t/demo`, 'demo-web', 'demo-web-dev-secret');
      const verifier = client.randomPKCECodeVerifier();
      const authorize = client.buildAuthorizationUrl(rp, {
        redirect_uri: 'http://localhost:3001/callback',
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        acr_values: 'urn:facet:acr:passkey+otp',
      });
      const jar = new CookieJar();
      const start = await followRedirects(authorize, jar, { origin });
      const uid = /\/interaction\/([^/]+)$/.exec(start.url.pathname)?.[1];
      assert.ok(uid, `an interaction started (${start.url})`);
      // The passkey step of this interaction, as the passkey page records it (src/interaction/step-up.ts).
      const demo = (await findTenant(database.db, 'demo'))!;
      await withTenant(database.db, demo, (trx) =>
        trx
          .insertInto('pending_logins')
          .values({
            binding: `stepup:interaction:${uid}`,
            user_id: stepper.userId,
            data: JSON.stringify({ userId: stepper.userId, factors: [{ factor: 'passkey', at: Math.floor(Date.now() / 1000), amr: ['hwk', 'user'] }] }),
            expires_at: new Date(Date.now() + 10 * 60_000),
          })
          .execute(),
      );
      const otpPage = new URL(`/t/demo/interaction/${uid}/stepup/otp`, origin);
      const page = await fetch(otpPage, { headers: { cookie: jar.header(otpPage) } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /autocomplete="one-time-code"/);
      const submitted = await fetch(otpPage, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(otpPage), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: csrfToken(csrfKey(config), `interaction:${uid}`), code: code(stepper.secret, Math.floor(Date.now() / 1000)) }),
      });
      assert.equal(submitted.status, 303, await submitted.text());
      const back = await followRedirects(new URL(submitted.headers.get('location')!, otpPage), jar, { origin });
      assert.equal(back.url.origin, 'http://localhost:3001', `the login finished at the RP (${back.url})`);
      const claims = (await client.authorizationCodeGrant(rp, back.url, { pkceCodeVerifier: verifier })).claims()!;
      assert.equal(claims.acr, 'urn:facet:acr:passkey+otp');
      assert.ok((claims.amr as string[]).includes('otp'), JSON.stringify(claims.amr));
    } finally {
      await running.stop(2000);
    }
  });

  test('boot refuses a factor ring that cannot open the stored TOTP secrets', async () => {
    await assert.rejects(boot(configWith({ embedding: [E2], factor: [STRANGER] })), (error: unknown) => {
      assert.ok(error instanceof KeyRingError);
      assert.match(error.message, /^tenant alpha: FACET_FACTOR_KEYS cannot decrypt 5 of 5 sampled TOTP secrets: the key that encrypted them is not in the ring/);
      return true;
    });
  });

  test('only FACET_EMBEDDING_KEYS set: factor secrets use that ring, and boot warns once', async () => {
    // Move the factor secrets back under the embedding ring, as a deployment from before the split has them.
    const legacy = createPurposeRings({ embeddingKeys: [E2], factorKeys: [E2, F2], factorKeysFallback: false });
    for (const tenant of await listTenants(database.db)) await rekeyTenant(database.db, tenant, legacy, ['factors']);

    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const config = configWith({ embedding: [E2] });
    assert.equal(config.factorKeysFallback, true);
    const services = await boot(config, pino({ level: 'info' }, sink));
    try {
      assert.equal(services.keys.factorSecrets, services.keys.faceTemplates);
      const { userId, secret } = enrolled[1]!.totp[0]!;
      const later = NOW + 300;
      const result = await withTenant(database.db, enrolled[1]!.tenant, (trx) => createTotpStore(factorSecretBox(services)).verifyCode(trx, { userId, code: code(secret, later), now: later }));
      assert.equal(result.ok, true);
    } finally {
      await services.close();
    }
    const warnings = lines.filter((l) => l.level === 40 && /FACET_FACTOR_KEYS/.test(l.msg));
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.match(warnings[0]!.msg, /FACET_FACTOR_KEYS is not set: TOTP seeds and NFC card keys are sealed with FACET_EMBEDDING_KEYS/);
    // With FACET_FACTOR_KEYS set there is no warning.
    lines.length = 0;
    const separate = await boot(configWith({ embedding: [E2], factor: [F2, E2] }), pino({ level: 'info' }, sink));
    await separate.close();
    assert.equal(lines.filter((l) => l.level === 40 && /FACET_FACTOR_KEYS/.test(l.msg)).length, 0);
  });
});

describe('FACET_FACTOR_KEYS in the configuration', () => {
  const production = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://id.example.org',
    TRUST_PROXY: 'true',
    METRICS_TOKEN: randomBytes(32).toString('base64url'),
    FACET_KEK: randomBytes(32).toString('base64url'),
    FACET_TOKEN_HASH_KEY: randomBytes(32).toString('base64url'),
    FACET_COOKIE_KEYS: randomBytes(32).toString('base64url'),
    FACET_EMBEDDING_KEYS: generateFernetKey(),
  };

  test('production: FACET_FACTOR_KEYS is used when set, required unless FACET_EMBEDDING_KEYS stands in, never a dev value', () => {
    const factor = generateFernetKey();
    const separate = loadConfig({ ...production, FACET_FACTOR_KEYS: `${factor},${production.FACET_EMBEDDING_KEYS}` });
    assert.deepEqual(separate.factorKeys, [factor, production.FACET_EMBEDDING_KEYS]);
    assert.equal(separate.factorKeysFallback, false);
    const fallback = loadConfig(production);
    assert.deepEqual(fallback.factorKeys, [production.FACET_EMBEDDING_KEYS]);
    assert.equal(fallback.factorKeysFallback, true);
    const { FACET_EMBEDDING_KEYS: _, ...withoutEmbedding } = production;
    assert.throws(() => loadConfig(withoutEmbedding), /FACET_EMBEDDING_KEYS is required in production\n\s+FACET_FACTOR_KEYS is required in production/);
    assert.throws(() => loadConfig({ ...production, FACET_FACTOR_KEYS: DEV_SECRETS.FACET_FACTOR_KEYS }), /FACET_FACTOR_KEYS holds a published development value/);
    // Empty (as docker-compose passes an unset ${FACET_FACTOR_KEYS:-}) is the same as unset.
    assert.equal(loadConfig({ ...production, FACET_FACTOR_KEYS: '' }).factorKeysFallback, true);
    assert.throws(() => loadConfig({ ...withoutEmbedding, FACET_FACTOR_KEYS: ' , ' }), /FACET_FACTOR_KEYS is required in production/);
  });

  test('development: a ring of its own, which still opens what the old shared development key sealed', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    const rings = createPurposeRings(config);
    assert.equal(config.factorKeysFallback, false);
    assert.notEqual(rings.factorSecrets.primaryKeyId, rings.faceTemplates.primaryKeyId);
    const before = rings.faceTemplates.encrypt(Buffer.from('sealed before the split'));
    assert.equal(rings.factorSecrets.decrypt(before).toString(), 'sealed before the split');
    assert.throws(() => createPurposeRings({ ...config, factorKeys: ['not-a-key'] }), /FACET_FACTOR_KEYS: key 1 of the ring is not a 32-byte base64url Fernet key/);
  });
});
