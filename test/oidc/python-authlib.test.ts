// A Python relying party (Authlib, Debian's python3-authlib) against Facet (issue 14): the code
// flow with PKCE and offline_access (first party, no prompt=consent), ID token validation,
// userinfo with the code-flow token, a refresh with resource= for the API's JWT, and the resource
// server's introspection of it. The script is the README's Python snippet, made runnable.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, projectRoot, type TestFacet } from '../support/facet.ts';
import { authorizeAs } from '../support/code-flow.ts';
import { CookieJar } from '../support/http-agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant } from '../../src/tenancy/registry.ts';

// Debian's interpreter, where apt installs python3-authlib (a pyenv shim may shadow it on PATH).
const PYTHON = process.env.FACET_TEST_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const SCRIPT = path.join(projectRoot, 'test/oidc/fixtures/authlib_rp.py');

describe('Python relying party (Authlib)', () => {
  let facet: TestFacet;
  let sub: string;

  before(async () => {
    facet = await startTestFacet();
    await applyTenantFile(facet.database.db, await readTenantFile(path.join(projectRoot, 'test/fixtures/tenants/rp.yaml')), { kek: facet.config.kek, production: false });
    const tenant = (await findTenant(facet.database.db, 'rp'))!;
    sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'authlib' }))).id;
  });
  after(async () => facet?.close());

  test('code flow, userinfo, refresh with resource=, introspection', async () => {
    const issuer = `${facet.baseUrl}/t/rp`;
    const child = spawn(PYTHON, [SCRIPT, issuer, 'rp-web', 'rp-web-dev-secret-000000', 'http://localhost:3001/callback', 'https://api.rp.example/', 'orders-api', 'orders-api-dev-secret-000'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();

    const first = await lines.next();
    assert.ok(!first.done, `the script printed the authorization URL (stderr: ${stderr})`);
    const authUrl = new URL(first.value);
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authUrl.searchParams.get('prompt'), null, 'no prompt=consent');
    const step = await authorizeAs(authUrl, new CookieJar(), { origin: facet.baseUrl, sub });
    assert.equal(step.response, undefined, 'redirected back to the RP');
    child.stdin.write(`${step.url.href}\n`);

    const second = await lines.next();
    assert.equal(await exited, 0, `the script succeeded (stderr: ${stderr})`);
    assert.ok(!second.done && second.value, `the script printed its results (stderr: ${stderr})`);
    const result = JSON.parse(second.value) as {
      sub: string;
      acr: string | null;
      userinfo_sub: string;
      has_refresh_token: boolean;
      rotated: boolean;
      introspection: Record<string, unknown>;
    };
    assert.equal(result.sub, sub);
    assert.ok(result.acr, 'the ID token carries acr');
    assert.equal(result.userinfo_sub, sub, 'userinfo accepts the code-flow access token');
    assert.equal(result.has_refresh_token, true);
    assert.equal(result.rotated, true);
    assert.equal(result.introspection.active, true);
    assert.equal(result.introspection.aud, 'https://api.rp.example/');
    assert.equal(result.introspection.scope, 'orders:read');
    assert.equal(result.introspection.sub, sub);
  });
});
