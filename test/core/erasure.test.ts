// Erasure removes the user and everything pointing at it; the audit trail stays intact.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { createUser, findLiveUserById } from '../../src/accounts/users.ts';
import { eraseUser } from '../../src/accounts/erasure.ts';
import { verifyAuditChain } from '../../src/audit/audit-log.ts';

let database: Database;
let tenant: TenantRecord;
before(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  await migrateControl(database.db);
  tenant = await createTenant(database.db, { slug: 'forget' }, { kek: Buffer.alloc(32, 5).toString('base64url') });
});
after(() => database?.close());

test('erasing a user removes the row and its credentials, keeps a verified audit chain', async () => {
  const user = await withTenant(database.db, tenant, (trx) => createUser(trx, { username: 'gone' }));
  await withTenant(database.db, tenant, (trx) =>
    trx.insertInto('webauthn_credentials').values({ user_id: user.id, credential_id: 'c1', public_key: 'AQ', name: 'key', user_handle: user.webauthn_user_handle }).execute(),
  );
  assert.equal(await withTenant(database.db, tenant, (trx) => eraseUser(trx, user.id, { actor: 'admin' })), true);
  await withTenant(database.db, tenant, async (trx) => {
    assert.equal(await findLiveUserById(trx, user.id), undefined);
    assert.equal((await trx.selectFrom('users').select('id').where('id', '=', user.id).execute()).length, 0);
    assert.equal((await trx.selectFrom('webauthn_credentials').select('id').where('user_id', '=', user.id).execute()).length, 0);
    const events = await trx.selectFrom('audit_events').select(['type', 'subject']).where('type', '=', 'account.erased').execute();
    assert.deepEqual(events, [{ type: 'account.erased', subject: user.id }]);
    assert.equal((await verifyAuditChain(trx)).ok, true);
  });
  assert.equal(await withTenant(database.db, tenant, (trx) => eraseUser(trx, user.id, { actor: 'admin' })), false);
});
