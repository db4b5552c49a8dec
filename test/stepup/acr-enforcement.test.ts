// acr_values are enforced in the authorization flow: satisfied sessions pass, missing factors
// are prompted for exactly, and impossible requests end at the RP as unmet_authentication_requirements.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { authorizeAs } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';

const REDIRECT = 'http://localhost:3001/callback';

describe('acr enforcement', () => {
  let facet: TestFacet;
  let tenant: TenantRecord;
  let config: client.Configuration;
  let plainUser: string;
  let otpUser: string;

  before(async () => {
    facet = await startTestFacet();
    tenant = (await findTenant(facet.database.db, 'demo'))!;
    config = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    await withTenant(facet.database.db, tenant, async (trx) => {
      plainUser = (await createUser(trx, { username: 'plain' })).id;
      otpUser = (await createUser(trx, { username: 'otp-user' })).id;
      for (const id of [plainUser, otpUser]) {
        await trx.insertInto('webauthn_credentials').values({ user_id: id, credential_id: `cred-${id}`, public_key: 'AQ', name: 'test key', user_handle: `h-${id}` }).execute();
      }
      await trx.insertInto('totp_factors').values({ user_id: otpUser, secret_encrypted: 'not-used-here', confirmed_at: new Date() }).execute();
    });
  });
  after(async () => facet?.close());

  /** Signs in through the test helper, then makes a second request with `extra` parameters. */
  async function signedInThenRequest(sub: string, extra: Record<string, string>, pauseMs = 0) {
    const jar = new CookieJar();
    const first = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const step = await authorizeAs(first, jar, { origin: facet.baseUrl, sub });
    assert.equal(step.url.origin, 'http://localhost:3001', 'signed in');
    await new Promise((r) => setTimeout(r, pauseMs));
    const verifier = client.randomPKCECodeVerifier();
    const second = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { step: await followRedirects(second, jar, { origin: facet.baseUrl }), verifier, jar };
  }

  test('a session that satisfies the requested acr passes without a prompt', async () => {
    const { step, verifier } = await signedInThenRequest(plainUser, { acr_values: 'urn:facet:acr:passkey' });
    assert.equal(step.url.origin, 'http://localhost:3001');
    const tokens = await client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier });
    assert.equal(tokens.claims()!.acr, 'urn:facet:acr:passkey');
    assert.deepEqual(tokens.claims()!.amr, ['hwk', 'user']);
  });

  test('a stronger acr with an enrolled factor prompts for exactly the missing factor', async () => {
    const { step } = await signedInThenRequest(otpUser, { acr_values: 'urn:facet:acr:passkey+otp' });
    assert.match(step.url.pathname, /^\/t\/demo\/interaction\/[^/]+$/, 'an interaction, not a code');
    const uid = step.url.pathname.split('/').at(-1)!;
    const record = await withTenant(facet.database.db, tenant, (trx) =>
      trx.selectFrom('oidc_records').select('payload').where('kind', '=', 'Interaction').where('uid', 'is', null).execute(),
    );
    const interaction = record.map((r) => r.payload as any).find((p) => p.prompt?.reasons?.includes('acr_step_up'));
    assert.ok(interaction, `interaction ${uid} asks for step-up`);
    assert.deepEqual(interaction.prompt.details.missing, ['otp']);
    assert.equal(interaction.prompt.details.target_acr, 'urn:facet:acr:passkey+otp');
  });

  test('a request no enrolled factor can satisfy: a page says what the app needs, then the RP gets unmet_authentication_requirements', async () => {
    const { step, jar } = await signedInThenRequest(plainUser, { acr_values: 'urn:facet:acr:passkey+otp' });
    // Issue 18: not a silent redirect; the user reads why first and clicks through.
    assert.match(step.url.pathname, /^\/t\/demo\/interaction\/[^/]+\/requirements$/, `a page first, got ${step.url}`);
    const text = await step.response!.text();
    assert.match(text, /needs a sign-in your account cannot give yet/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(text)![1]!;
    const back = await fetch(step.url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(step.url), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ csrf }),
    });
    jar.store(back);
    assert.equal(back.status, 303);
    const end = await followRedirects(new URL(back.headers.get('location')!, step.url), jar, { origin: facet.baseUrl });
    assert.equal(end.url.origin, 'http://localhost:3001');
    assert.equal(end.url.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.ok(end.url.searchParams.get('error_description'));
  });

  test('with prompt=none an unmet request ends at the RP at once', async () => {
    const { step } = await signedInThenRequest(plainUser, { acr_values: 'urn:facet:acr:passkey+otp', prompt: 'none' });
    assert.equal(step.url.origin, 'http://localhost:3001');
    assert.equal(step.url.searchParams.get('error'), 'unmet_authentication_requirements');
  });

  test('prompt=none with a needed step-up answers interaction_required or login_required', async () => {
    const { step } = await signedInThenRequest(otpUser, { acr_values: 'urn:facet:acr:passkey+otp', prompt: 'none' });
    assert.equal(step.url.origin, 'http://localhost:3001');
    assert.match(step.url.searchParams.get('error') ?? '', /^(login_required|interaction_required)$/);
  });

  test('max_age shorter than the session age asks for the passkey again', async () => {
    const { step } = await signedInThenRequest(plainUser, { acr_values: 'urn:facet:acr:passkey', max_age: '1' }, 2100);
    assert.match(step.url.pathname, /\/interaction\//);
  });
});
