// `facet user invite` as an operator runs it: a separate process prints a signed, single-use link
// that the tenant's sign-up accepts for that email.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { projectRoot } from '../support/facet.ts';
import { loadConfig } from '../../src/config/index.ts';
import { openConfiguredDatabase } from '../../src/boot.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { checkInvite } from '../../src/accounts/invites.ts';
import { findTenant } from '../../src/tenancy/registry.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'facet-invite-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

function facet(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, FACET_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  const result = spawnSync(process.execPath, [path.join(projectRoot, 'src/cli/main.ts'), ...args], { env, encoding: 'utf8', cwd: projectRoot });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

test('facet user invite prints a link whose token the tenant accepts for that email', async () => {
  assert.equal(facet('tenant', 'apply', 'tenants/demo.yaml').code, 0);
  const missing = facet('user', 'invite', 'ann@demo.example');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /--tenant <slug> is required/);
  const invited = facet('user', 'invite', '--tenant', 'demo', 'ann@demo.example');
  assert.equal(invited.code, 0, invited.err);
  const link = /^(http:\/\/localhost:3000\/t\/demo\/account\/sign-in\/signup\?invite=(\S+))$/m.exec(invited.out);
  assert.ok(link, invited.out);
  assert.match(invited.out, /for ann@demo\.example; single use; expires/);

  const config = loadConfig({ FACET_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const database = await openConfiguredDatabase(config);
  try {
    const demo = (await findTenant(database.db, 'demo'))!;
    const checked = await withTenant(database.db, demo, (trx) => checkInvite(trx, { token: decodeURIComponent(link[2]!), slug: 'demo', key: config.cookieKeys[0]! }));
    assert.deepEqual({ ok: checked.ok, email: checked.ok && checked.email }, { ok: true, email: 'ann@demo.example' });
    const otherTenant = await withTenant(database.db, demo, (trx) => checkInvite(trx, { token: decodeURIComponent(link[2]!), slug: 'acme', key: config.cookieKeys[0]! }));
    assert.deepEqual(otherTenant, { ok: false, reason: 'invalid' }, 'signed for its tenant only');
  } finally {
    await database.close();
  }
});
