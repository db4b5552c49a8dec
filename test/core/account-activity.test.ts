// The account page's own audit views (src/audit/account-activity.ts), on PostgreSQL: a user's
// recent sign-ins and security changes, newest first, only their own, only those kinds.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { createUser } from '../../src/accounts/users.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { recentSecurityChanges, recentSignIns } from '../../src/audit/account-activity.ts';

let database: Database;
let tenant: TenantRecord;
before(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  await migrateControl(database.db);
  tenant = await createTenant(database.db, { slug: 'activity' }, { kek: Buffer.alloc(32, 7).toString('base64url') });
});
after(() => database?.close());

test("a user's recent sign-ins and security changes: newest first, only theirs, only those kinds", async () => {
  await withTenant(database.db, tenant, async (trx) => {
    const me = await createUser(trx, { username: 'me' });
    const other = await createUser(trx, { username: 'other' });
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 12, minute));
    const facts = { ip: '203.0.113.5', userAgent: 'Firefox', requestId: null };
    await appendAudit(trx, { type: 'passkey.sign_in', actor: me.id, subject: me.id, ...facts, data: { credential_id: 'c', amr: ['hwk'], backup_state: false, flow: 'account' } });
    await appendAudit(trx, { type: 'passkey.registered', actor: me.id, subject: me.id, ...facts, data: { credential_id: 'c2', proof: { factor: 'passkey', at: at(1).toISOString() } } });
    await appendAudit(trx, { type: 'recovery_code.used', actor: me.id, subject: me.id, ...facts, data: { flow: 'interaction' } });
    await appendAudit(trx, { type: 'passkey.renamed', actor: me.id, subject: me.id, ...facts, data: { id: 'x', name: 'n' } });
    await appendAudit(trx, { type: 'passkey.sign_in', actor: other.id, subject: other.id, ...facts, data: { credential_id: 'o', amr: ['hwk'], flow: 'account' } });
    await appendAudit(trx, { type: 'factor.otp.removed', actor: other.id, subject: other.id, ...facts, data: {} });

    const signIns = await recentSignIns(trx, me.id);
    assert.deepEqual(
      signIns.map((s) => [s.type, s.flow, s.ip, s.userAgent]),
      [
        ['recovery_code.used', 'interaction', '203.0.113.5', 'Firefox'],
        ['passkey.sign_in', 'account', '203.0.113.5', 'Firefox'],
      ],
    );
    assert.ok(signIns.every((s) => s.at instanceof Date));
    assert.equal((await recentSignIns(trx, me.id, { limit: 1 })).length, 1);
    assert.deepEqual(
      (await recentSecurityChanges(trx, me.id)).map((c) => [c.type, c.proof]),
      [['passkey.registered', 'passkey']],
    );
    assert.deepEqual((await recentSecurityChanges(trx, other.id)).map((c) => [c.type, c.proof]), [['factor.otp.removed', null]]);
  });
});
