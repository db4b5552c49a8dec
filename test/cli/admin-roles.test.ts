// `facet admin grant|revoke|list|invite` as a user runs them: separate processes against real
// PostgreSQL (DATABASE_URL; the embedded database when unset). Every grant and revoke is audited.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../support/facet.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { openConfiguredDatabase } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/index.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { checkInvite } from '../../src/accounts/invites.ts';

describe('facet admin', () => {
  let testDb: TestDatabase;
  let env: NodeJS.ProcessEnv;

  const facet = (...args: string[]) => {
    const result = spawnSync(process.execPath, [path.join(projectRoot, 'bin/facet.js'), ...args], { env, encoding: 'utf8', cwd: projectRoot });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
  const withDemo = async <T>(work: (trx: Parameters<Parameters<typeof withTenant>[2]>[0]) => Promise<T>): Promise<T> => {
    const config = loadConfig({ ...env, NODE_ENV: 'test' } as Record<string, string>);
    const database = await openConfiguredDatabase(config);
    try {
      return await withTenant(database.db, (await findTenant(database.db, 'demo'))!, work);
    } finally {
      await database.close();
    }
  };

  before(async () => {
    testDb = await createTestDatabase();
    // The embedded database only persists across processes in a directory.
    const dbEnv = testDb.kind === 'pglite' ? { FACET_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'facet-admin-cli-')) } : testDb.env;
    env = { ...process.env, ...dbEnv, LOG_LEVEL: 'silent', NODE_ENV: 'test' };
    assert.equal(facet('tenant', 'apply', path.join(projectRoot, 'tenants/demo.yaml')).code, 0);
    await withDemo(async (trx) => {
      await createUser(trx, { username: 'grace', email: 'grace@demo.example' });
      await createUser(trx, { username: 'linus', email: 'linus@demo.example' });
    });
  });
  after(async () => testDb?.drop());

  test('grant by username and by email, list, revoke; each change audited, repeats change nothing', async () => {
    const granted = facet('admin', 'grant', '--tenant', 'demo', 'grace', '--role', 'admin');
    assert.equal(granted.code, 0, granted.err);
    assert.match(granted.out, /granted admin to grace \([0-9a-f-]{36}\) in demo/);
    assert.match(facet('admin', 'grant', '--tenant', 'demo', 'grace', '--role', 'admin').out, /grace already holds admin in demo/);
    assert.equal(facet('admin', 'grant', '--tenant', 'demo', 'LINUS@demo.example', '--role', 'helpdesk').code, 0);

    const list = facet('admin', 'list', '--tenant', 'demo');
    assert.match(list.out, /grace\s+admin\s+cli\s+grace@demo\.example/);
    assert.match(list.out, /linus\s+helpdesk\s+cli/);

    const revoked = facet('admin', 'revoke', '--tenant', 'demo', 'linus', '--role', 'helpdesk');
    assert.equal(revoked.code, 0, revoked.err);
    assert.match(revoked.out, /revoked helpdesk from linus/);
    assert.match(facet('admin', 'revoke', '--tenant', 'demo', 'linus', '--role', 'helpdesk').out, /linus does not hold helpdesk in demo/);

    const events = await withDemo((trx) => trx.selectFrom('audit_events').select(['type', 'actor', 'data']).where('type', 'in', ['admin.role_granted', 'admin.role_revoked']).orderBy('id').execute());
    assert.deepEqual(
      events.map((e) => [e.type, e.actor, (e.data as { role: string }).role]),
      [
        ['admin.role_granted', 'cli', 'admin'],
        ['admin.role_granted', 'cli', 'helpdesk'],
        ['admin.role_revoked', 'cli', 'helpdesk'],
      ],
    );
  });

  test('bad input: a specific message and a non-zero exit', () => {
    const noRole = facet('admin', 'grant', '--tenant', 'demo', 'grace');
    assert.equal(noRole.code, 1);
    assert.match(noRole.err, /--role <admin\|helpdesk\|auditor\|operator> is required/);
    const badRole = facet('admin', 'grant', '--tenant', 'demo', 'grace', '--role', 'root');
    assert.match(badRole.err, /--role must be one of admin, helpdesk, auditor, operator \(not root\)/);
    const nobody = facet('admin', 'grant', '--tenant', 'demo', 'nobody@nowhere.example', '--role', 'admin');
    assert.equal(nobody.code, 1);
    assert.match(nobody.err, /no user nobody@nowhere\.example in tenant demo/);
    const noTenant = facet('admin', 'grant', '--tenant', 'nope', 'grace', '--role', 'admin');
    assert.match(noTenant.err, /no tenant called nope/);
    assert.match(facet('admin', 'grant', 'grace', '--role', 'admin').err, /--tenant <slug> is required/);
  });

  test('invite --role prints a link whose invite carries the role', async () => {
    const invited = facet('admin', 'invite', '--tenant', 'demo', '--role', 'auditor', 'new.auditor@demo.example');
    assert.equal(invited.code, 0, invited.err);
    const link = /^(http\S+)$/m.exec(invited.out)?.[1];
    assert.ok(link, invited.out);
    assert.match(invited.out, /becomes auditor on sign-up/);
    const token = new URL(link).searchParams.get('invite')!;
    const check = await withDemo((trx) => checkInvite(trx, { token, slug: 'demo', key: loadConfig({ ...env } as Record<string, string>).cookieKeys[0]! }));
    assert.ok(check.ok);
    assert.equal(check.ok && check.role, 'auditor');
    assert.equal(check.ok && check.email, 'new.auditor@demo.example');
    assert.match(facet('admin', 'invite', '--tenant', 'demo', '--role', 'admin', 'not-an-email').err, /not-an-email is not an email address/);
  });
});
