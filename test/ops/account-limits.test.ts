// The per-account rate limits of the forms and the token endpoint, over HTTP: signin.account by the
// username typed on the sign-in and recovery forms, signup.account by the username and e-mail of a
// registration, token.account by the client_id of HTTP Basic authentication. Each answers 429 with
// Retry-After in the endpoint's own format; a tenant file cannot name a policy that does not exist.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';
import { parseTenantFile } from '../../src/tenancy/tenant-file.ts';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { POLICY_KEYS } from '../../src/ratelimit/policies.ts';
import { projectRoot } from '../support/facet.ts';
import { adminAuthorization } from '../support/admin-client.ts';

describe('per-account rate limits', () => {
  let facet: TestFacet;
  let agent: PasskeyAgent;

  before(async () => {
    facet = await startTestFacet({
      env: {
        FACET_RATE_LIMITS: JSON.stringify({
          'signin.ip': { points: 1000 },
          'signup.ip': { points: 1000 },
          'token.ip': { points: 1000 },
          'signin.account': { points: 2, duration: 60 },
          'signup.account': { points: 1, duration: 3600 },
          'token.account': { points: 2, duration: 60 },
          'admin.ip': { points: 1000 },
          'admin.account': { points: 2, duration: 60 },
        }),
      },
    });
    agent = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
  });
  after(async () => facet?.close());

  test('signin.account: the same username on the sign-in and recovery forms', async () => {
    await agent.open();
    for (let i = 0; i < 2; i += 1) assert.equal((await agent.json(`${agent.flowBase}/passkey/options`, { csrf: agent.csrf, username: 'Target.User' })).status, 200);
    const refused = await agent.json(`${agent.flowBase}/passkey/options`, { csrf: agent.csrf, username: 'target.user ' });
    assert.equal(refused.status, 429);
    assert.equal(refused.data.code, 'rate_limited');
    // The default five-minute block of signin.account, told in minutes.
    assert.equal(refused.data.detail, 'Too many attempts. Wait 5 minutes and try again.');
    // Another name is not affected; the recovery form counts against the same name.
    assert.equal((await agent.json(`${agent.flowBase}/passkey/options`, { csrf: agent.csrf, username: 'someone.else' })).status, 200);
    await agent.page(`${agent.flowBase}/recovery`);
    const recovery = await agent.request(`${agent.flowBase}/recovery`, { form: { csrf: agent.csrf, username: 'target.user', code: 'aaaa-bbbb-cccc-dddd' } });
    assert.equal(recovery.status, 429);
    assert.ok(Number(recovery.headers.get('retry-after')) > 0);
    assert.match(await recovery.text(), /Too many attempts/);
  });

  test('signup.account: one e-mail address, one registration attempt an hour here', async () => {
    await agent.page(`${agent.flowBase}/signup`);
    const first = await agent.request(`${agent.flowBase}/signup`, { form: { csrf: agent.csrf, username: 'newcomer1', email: 'same@demo.example', displayName: '' } });
    assert.equal(first.status, 303);
    await agent.page(`${agent.flowBase}/signup`);
    const second = await agent.request(`${agent.flowBase}/signup`, { form: { csrf: agent.csrf, username: 'newcomer2', email: 'Same@demo.example', displayName: '' } });
    assert.equal(second.status, 429);
    assert.ok(Number(second.headers.get('retry-after')) > 0);
  });

  test('token.account: one client, counted by its HTTP Basic client_id', async () => {
    const basic = `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`;
    const token = () =>
      fetch(`${facet.baseUrl}/t/demo/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=orders:read' });
    assert.equal((await token()).status, 200);
    assert.equal((await token()).status, 200);
    const refused = await token();
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(((await refused.json()) as { error: string }).error, 'temporarily_unavailable');
  });

  test('admin.account: one administrator, whatever the address', async () => {
    const authorization = await adminAuthorization(facet.baseUrl);
    const call = () => fetch(`${facet.baseUrl}/t/demo/admin/api/locked`, { headers: { authorization } });
    assert.equal((await call()).status, 200);
    assert.equal((await call()).status, 200);
    const refused = await call();
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
  });

  test('a tenant file naming an unknown policy is refused', () => {
    assert.throws(() => parseTenantFile('slug: x\nname: X\nsettings:\n  rate_limits:\n    signin.iq: { points: 3 }\n'), /signin\.iq/);
    assert.doesNotThrow(() => parseTenantFile('slug: x\nname: X\nsettings:\n  rate_limits:\n    signin.account: { points: 3 }\n'));
  });

  test('every policy in the defaults is applied somewhere and documented', () => {
    const src = path.join(projectRoot, 'src');
    const code = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.endsWith(path.join('ratelimit', 'policies.ts')))
      .map((f) => readFileSync(path.join(src, f), 'utf8'))
      .join('\n');
    const docs = readFileSync(path.join(projectRoot, 'docs/operations.md'), 'utf8');
    for (const key of POLICY_KEYS) {
      assert.ok(code.includes(`'${key}'`), `${key} is consumed by some code`);
      const [name, scope] = key.split('.');
      assert.match(docs, new RegExp(`\\| \`${name}\` \\| ${scope}\\b`), `${key} is in docs/operations.md`);
    }
  });
});
