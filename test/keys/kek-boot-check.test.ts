// The boot check for FACET_KEK (src/keys/kek-rekey.ts assertKekSealedReadable, run by
// createServices): in every tenant, sampled KEK-sealed values (token signing keys, audit-signing
// keys, client secrets) must open with the ring. A ring that lost the old key before the re-key
// stops a production start naming the tenant, the value and the way back; after
// `facet keys rekey --purpose kek` the new key alone passes. On PostgreSQL when DATABASE_URL is set,
// PGlite otherwise.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.ts';
import { openConfiguredDatabase, migrateAll } from '../../src/boot.ts';
import type { Database } from '../../src/db/client.ts';
import { untypedTables, withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { KeyRingError } from '../../src/crypto/key-ring.ts';
import { sealClientSecret } from '../../src/oidc/clients.ts';
import { rotateAuditKey } from '../../src/audit/signing.ts';
import { assertKekSealedReadable, rekeyKekSealed } from '../../src/keys/kek-rekey.ts';
import { createServices } from '../../src/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const random = () => randomBytes(32).toString('base64url');
const OLD = random();
const NEW = random();

describe('FACET_KEK boot check', { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let database: Database;
  let tenant: TenantRecord;
  const emptyTenants = mkdtempSync(path.join(tmpdir(), 'facet-kek-'));
  const base = () => ({ LOG_LEVEL: 'silent', FACET_TENANTS_DIR: emptyTenants, FACET_MODELS_DIR: path.join(emptyTenants, 'no-models'), ...testDb.env });
  const production = (kek: string) =>
    loadConfig({
      ...base(),
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://id.example.com',
      TRUST_PROXY: 'true',
      FACET_KEK: kek,
      FACET_TOKEN_HASH_KEY: random(),
      FACET_COOKIE_KEYS: random(),
      FACET_EMBEDDING_KEYS: random(),
      METRICS_TOKEN: random(),
    });

  before(async () => {
    testDb = await createTestDatabase();
    database = await openConfiguredDatabase(loadConfig({ ...base(), NODE_ENV: 'test', FACET_KEK: OLD }));
    await migrateAll(database);
    // createTenant seals its first token signing key and audit-signing key under OLD.
    tenant = await createTenant(database.db, { slug: 'vault', name: 'Vault' }, { kek: OLD });
    await withTenant(database.db, tenant, async (trx) => {
      await untypedTables(trx).insertInto('clients').values({ client_id: 'svc', metadata: JSON.stringify({ client_id: 'svc' }), source: 'admin', secret_sealed: sealClientSecret(OLD, 'vault', 'svc', 'the-client-secret') }).execute();
      await rotateAuditKey(trx, { kek: OLD, slug: 'vault', actor: 'test' });
    });
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
    rmSync(emptyTenants, { recursive: true, force: true });
  });

  test('the ring that sealed the values, alone or after a new first key, passes', async () => {
    await assertKekSealedReadable(database.db, OLD, [tenant]);
    await assertKekSealedReadable(database.db, `${NEW},${OLD}`, [tenant]);
  });

  test('the new key alone before the re-key: a clear KeyRingError naming the tenant, the value and the way back, no secret in it', async () => {
    await assert.rejects(assertKekSealedReadable(database.db, NEW, [tenant]), (error: unknown) => {
      assert.ok(error instanceof KeyRingError, String(error));
      assert.equal(error.code, 'key_ring_cannot_decrypt');
      assert.match(error.message, /^tenant vault: FACET_KEK cannot open the sealed token signing key \S+ \(signing_keys\): no key in FACET_KEK sealed it\./);
      assert.match(error.message, /FACET_KEK=<new>,<old>\), run `facet keys rekey --purpose kek`, and only then remove it/);
      for (const secret of [NEW, OLD, 'the-client-secret']) assert.ok(!error.message.includes(secret));
      return true;
    });
  });

  test('production refuses to start on it; elsewhere the start goes on and logs the problem once', async () => {
    await assert.rejects(createServices({ config: production(NEW), db: database.db, logger: pino({ level: 'silent' }), installation: 'test' }), /tenant vault: FACET_KEK cannot open the sealed token signing key/);

    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const services = await createServices({ config: loadConfig({ ...base(), NODE_ENV: 'test', FACET_KEK: NEW }), db: database.db, logger, installation: 'test' });
    await services.close();
    const logged = lines.filter((line) => line.includes('FACET_KEK cannot open a stored sealed value'));
    assert.equal(logged.length, 1, lines.join(''));
    assert.ok(!logged[0]!.includes(NEW) && !logged[0]!.includes(OLD), 'no key in the log');
  });

  test('a client secret sealed under a key that left the ring is found too (the newest sample)', async () => {
    const stray = random();
    await withTenant(database.db, tenant, (trx) =>
      untypedTables(trx).insertInto('clients').values({ client_id: 'zz-stray', metadata: JSON.stringify({ client_id: 'zz-stray' }), source: 'admin', secret_sealed: sealClientSecret(stray, 'vault', 'zz-stray', 's') }).execute(),
    );
    await assert.rejects(assertKekSealedReadable(database.db, `${NEW},${OLD}`, [tenant]), /tenant vault: FACET_KEK cannot open the sealed client secret zz-stray \(clients\)/);
    await withTenant(database.db, tenant, (trx) => untypedTables(trx).deleteFrom('clients').where('client_id', '=', 'zz-stray').execute());
  });

  test('after `facet keys rekey --purpose kek` the new key alone passes, and production starts', async () => {
    await rekeyKekSealed(database.db, tenant, `${NEW},${OLD}`);
    await assertKekSealedReadable(database.db, NEW, [tenant]);
    const services = await createServices({ config: production(NEW), db: database.db, logger: pino({ level: 'silent' }), installation: 'test' });
    await services.close();
  });
});
