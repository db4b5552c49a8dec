// Tenancy is enforced by the database: each tenant's role may touch its own schema only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant, dropTenant, TenantExistsError } from '../../src/tenancy/provision.ts';
import { findTenant, listTenants, type TenantRecord } from '../../src/tenancy/registry.ts';
import { appendAudit, verifyAuditChain } from '../../src/audit/audit-log.ts';
import { createUser } from '../../src/accounts/users.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';

const KEK = Buffer.alloc(32, 7).toString('base64url');

for (const backend of backends) {
  describe(`tenant isolation on ${backend}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    let alpha: TenantRecord;
    let beta: TenantRecord;

    before(async () => {
      testDb = await createTestDatabase(backend);
      database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
      await migrateControl(database.db);
      alpha = await createTenant(database.db, { slug: 'alpha', name: 'Alpha' }, { kek: KEK });
      beta = await createTenant(database.db, { slug: 'beta-corp', name: 'Beta' }, { kek: KEK });
      await withTenant(database.db, beta, (trx) => createUser(trx, { username: 'bob', email: 'bob@beta.example' }));
    });
    after(async () => {
      await database?.close();
      await testDb?.drop();
    });

    test('schema and role names follow the slug and carry the installation prefix', () => {
      assert.equal(beta.schema, 'tenant_beta_corp');
      assert.match(beta.role, /^facet_[a-z0-9]{8}_beta_corp$/);
      assert.notEqual(alpha.role, beta.role);
    });

    test("unqualified queries see only the tenant's own rows", async () => {
      const rows = await withTenant(database.db, alpha, (trx) => trx.selectFrom('users').select('username').execute());
      assert.deepEqual(rows, []);
      const betaRows = await withTenant(database.db, beta, (trx) => trx.selectFrom('users').select('username').execute());
      assert.deepEqual(betaRows.map((r) => r.username), ['bob']);
    });

    test("naming another tenant's schema explicitly fails with permission denied", async () => {
      await assert.rejects(
        withTenant(database.db, alpha, (trx) => sql`select * from tenant_beta_corp.users`.execute(trx)),
        /permission denied for schema tenant_beta_corp/,
      );
      await assert.rejects(
        withTenant(database.db, alpha, (trx) => sql`insert into tenant_beta_corp.audit_events (type, prev_hash, hash) values ('x', '', '')`.execute(trx)),
        /permission denied/,
      );
    });

    test('a tenant role cannot read the control schema', async () => {
      await assert.rejects(
        withTenant(database.db, alpha, (trx) => sql`select * from facet_control.tenants`.execute(trx)),
        /permission denied for schema facet_control/,
      );
    });

    test('the audit trail is append-only for the tenant role and its chain verifies', async () => {
      await withTenant(database.db, alpha, async (trx) => {
        await appendAudit(trx, { type: 'tenant.settings_changed', data: { n: 1 } });
        await appendAudit(trx, { type: 'client.updated', data: { n: 2 } });
      });
      await assert.rejects(
        withTenant(database.db, alpha, (trx) => sql`update audit_events set type = 'forged'`.execute(trx)),
        /permission denied for table audit_events/,
      );
      await assert.rejects(
        withTenant(database.db, alpha, (trx) => sql`delete from audit_events`.execute(trx)),
        /permission denied for table audit_events/,
      );
      const verdict = await withTenant(database.db, alpha, (trx) => verifyAuditChain(trx));
      assert.deepEqual(verdict, { ok: true, rows: 3 }); // tenant.created + two events
    });

    test('creating a tenant that exists is refused with a specific error', async () => {
      await assert.rejects(createTenant(database.db, { slug: 'alpha' }, { kek: KEK }), TenantExistsError);
    });

    test('tenant creation is all or nothing', async () => {
      // Occupy the role name the next tenant would get, so creation fails half-way through.
      const prefix = alpha.role.split('_')[1];
      await sql.raw(`create role facet_${prefix}_gamma nologin`).execute(database.db);
      try {
        await assert.rejects(createTenant(database.db, { slug: 'gamma' }, { kek: KEK }), /already exists/);
        assert.equal(await findTenant(database.db, 'gamma'), undefined);
        const schemas = await sql<{ n: number }>`select count(*)::int as n from information_schema.schemata where schema_name = 'tenant_gamma'`.execute(database.db);
        assert.equal(schemas.rows[0]!.n, 0);
        assert.deepEqual((await listTenants(database.db)).map((t) => t.slug), ['alpha', 'beta-corp']);
      } finally {
        await sql.raw(`drop role facet_${prefix}_gamma`).execute(database.db);
      }
    });

    test('dropping a tenant removes its schema and role', async () => {
      const temp = await createTenant(database.db, { slug: 'temp' }, { kek: KEK });
      await dropTenant(database.db, 'temp');
      const roles = await sql<{ n: number }>`select count(*)::int as n from pg_roles where rolname = ${temp.role}`.execute(database.db);
      assert.equal(roles.rows[0]!.n, 0);
      assert.equal(await findTenant(database.db, 'temp'), undefined);
    });
  });
}
