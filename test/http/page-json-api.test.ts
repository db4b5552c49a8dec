// The pages' JSON calls are declared with the route guard (src/interaction/json-api.ts): the
// OpenAPI 3.1 document built from those declarations validates with a real OpenAPI validator and
// lists every one of them (under both bases of the sign-in steps), and every one refuses bad input
// with a specific RFC 9457 problem (400 invalid_parameters naming the field, 415 for a body that
// is not JSON), never a 500 and never a generic message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { discover } from '../support/rp.ts';
import { SoftAuthenticator } from '../passkey/soft-authenticator.ts';
import { PasskeyAgent } from '../passkey/agent.ts';
import { pageJsonRoutes } from '../../src/interaction/json-api.ts';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Array<{ in: string; pointer: string; detail: string }>;
}

describe('page JSON API (declared routes)', () => {
  let facet: TestFacet;
  let user: PasskeyAgent; // signed in to the account page
  let visitor: PasskeyAgent; // on the account page's sign-in
  let inInteraction: PasskeyAgent; // on an OIDC interaction's sign-in page
  let interaction: string;

  before(async () => {
    facet = await startTestFacet();
    user = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
    assert.ok((await user.signUp({ username: 'json-api-user', email: 'json-api@demo.example' })).ok);
    await user.page('/t/demo/account');
    visitor = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
    await visitor.open();
    inInteraction = new PasskeyAgent(facet.baseUrl, 'demo', new SoftAuthenticator());
    const rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: 'http://localhost:3001/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const start = await inInteraction.request(url.pathname + url.search);
    interaction = new URL(start.headers.get('location')!, facet.baseUrl).pathname;
    assert.equal((await inInteraction.page(interaction)).status, 200);
  });
  after(async () => facet?.close());

  test('the document is valid OpenAPI 3.1 and lists every declared JSON route of the pages', async () => {
    const response = await fetch(`${facet.baseUrl}/t/demo/pages/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as any;
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, '3.1');
    assert.equal(document.servers[0].url, `${facet.config.publicUrl}/t/demo`);
    const listed = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => `${method.toUpperCase()} ${path} ${operation.operationId}`),
    );
    assert.deepEqual(
      listed.sort(),
      [
        'GET /pages/openapi.json getPageApiDocument',
        'POST /account/face/enrol faceEnrol',
        'POST /account/passkeys/options accountPasskeyOptions',
        'POST /account/passkeys/verify accountPasskeyVerify',
        'POST /account/sign-in/passkey/options passkeySignInOptionsOnAccountPage',
        'POST /account/sign-in/passkey/verify passkeySignInVerifyOnAccountPage',
        'POST /account/sign-in/register/options passkeyRegistrationOptionsOnAccountPage',
        'POST /account/sign-in/register/verify passkeyRegistrationVerifyOnAccountPage',
        'POST /account/verify/face/challenge faceChallengeAccountProof',
        'POST /account/verify/face/verify faceVerifyAccountProof',
        'POST /interaction/{uid}/passkey/options passkeySignInOptionsInInteraction',
        'POST /interaction/{uid}/passkey/verify passkeySignInVerifyInInteraction',
        'POST /interaction/{uid}/register/options passkeyRegistrationOptionsInInteraction',
        'POST /interaction/{uid}/register/verify passkeyRegistrationVerifyInInteraction',
        'POST /interaction/{uid}/stepup/face/challenge faceChallengeStepUp',
        'POST /interaction/{uid}/stepup/face/verify faceVerifyStepUp',
      ].sort(),
    );
    const verify = document.paths['/interaction/{uid}/passkey/verify'].post;
    assert.deepEqual(verify.parameters.map((p: any) => [p.name, p.in, p.required]), [['uid', 'path', true]]);
    assert.deepEqual(verify.requestBody.content['application/json'].schema.required, ['csrf', 'response']);
    assert.deepEqual(Object.keys(verify.responses['200'].content['application/json'].schema.properties), ['redirect']);
    assert.equal(verify.responses['400'].content['application/problem+json'].schema.$ref, '#/components/schemas/Problem');
    assert.ok(verify.responses['429'].headers['Retry-After']);
    const enrol = document.paths['/account/face/enrol'].post.requestBody.content['application/json'].schema;
    assert.equal(enrol.properties.frames.maxItems, 5);
  });

  test('every declared route refuses bad input with a specific problem, not a 500 or a generic message', async () => {
    const covered = new Set<string>();
    const refuses = async (agent: PasskeyAgent, operationId: string, path: string, body: unknown, expected: { status: number; code: string; pointer?: string; detail?: RegExp }, contentType = 'application/json') => {
      const url = new URL(path, facet.baseUrl);
      const response = await fetch(url, {
        method: 'POST',
        headers: { cookie: agent.jar.header(url), accept: 'application/json', 'content-type': contentType },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        redirect: 'manual',
      });
      assert.equal(response.status, expected.status, `${operationId}: ${response.status} ${await response.clone().text()}`);
      assert.equal(response.headers.get('content-type'), 'application/problem+json', operationId);
      const problem = (await response.json()) as Problem;
      assert.equal(problem.code, expected.code, operationId);
      assert.equal(problem.status, expected.status);
      if (expected.pointer) assert.ok(problem.errors?.some((e) => e.in === 'body' && e.pointer === expected.pointer), `${operationId} names ${expected.pointer}: ${JSON.stringify(problem.errors)}`);
      if (expected.detail) assert.match(problem.detail, expected.detail, operationId);
      covered.add(operationId);
    };
    const invalid = (pointer: string, detail?: RegExp) => ({ status: 400, code: 'invalid_parameters', pointer, ...(detail ? { detail } : {}) });
    const notJson = { status: 415, code: 'unsupported_media_type' };
    const noFrames = /^No pictures were received/;

    // The sign-in and sign-up steps, under both bases.
    for (const [agent, base, suffix] of [
      [inInteraction, interaction, 'InInteraction'],
      [visitor, '/t/demo/account/sign-in', 'OnAccountPage'],
    ] as const) {
      const csrf = agent.csrf;
      await refuses(agent, `passkeySignInOptions${suffix}`, `${base}/passkey/options`, { csrf, username: 42 }, invalid('#/username'));
      await refuses(agent, `passkeySignInVerify${suffix}`, `${base}/passkey/verify`, { csrf, response: { id: '', rawId: 'x', type: 'public-key', response: {} } }, invalid('#/response/id'));
      await refuses(agent, `passkeyRegistrationOptions${suffix}`, `${base}/register/options`, `csrf=${encodeURIComponent(csrf)}`, notJson, 'text/plain');
      await refuses(agent, `passkeyRegistrationVerify${suffix}`, `${base}/register/verify`, { csrf, response: 'not a credential' }, invalid('#/response'));
    }
    // The account page's calls (the new account's sign-up is its fresh proof).
    const csrf = user.csrf;
    await refuses(user, 'accountPasskeyOptions', '/t/demo/account/passkeys/options', `csrf=${encodeURIComponent(csrf)}`, notJson, 'text/plain');
    await refuses(user, 'accountPasskeyVerify', '/t/demo/account/passkeys/verify', { csrf, response: ['x'] }, invalid('#/response'));
    // The face calls read their pictures before the CSRF check, then check the input before anything else.
    await refuses(user, 'faceEnrol', '/t/demo/account/face/enrol', { csrf, consent: true, frames: ['too short'] }, invalid('#/frames/0', noFrames));
    await refuses(user, 'faceChallengeAccountProof', '/t/demo/account/verify/face/challenge', { csrf, testSteps: 7 }, invalid('#/testSteps'));
    await refuses(user, 'faceVerifyAccountProof', '/t/demo/account/verify/face/verify', { csrf, challengeId: 'nope', sentAt: 1, frames: [] }, invalid('#/challengeId', noFrames));
    await refuses(inInteraction, 'faceChallengeStepUp', `${interaction}/stepup/face/challenge`, { csrf: inInteraction.csrf, testSteps: ['left'] }, invalid('#/testSteps'));
    await refuses(inInteraction, 'faceVerifyStepUp', `${interaction}/stepup/face/verify`, { csrf: inInteraction.csrf, challengeId: crypto.randomUUID(), sentAt: 'now', frames: [] }, invalid('#/sentAt', noFrames));

    const declared = pageJsonRoutes()
      .filter((route) => route.method === 'post')
      .map((route) => route.operationId)
      .sort();
    assert.deepEqual([...covered].sort(), declared, 'every declared JSON call was sent bad input');
    // Still signed in, nothing changed: one passkey, no face.
    const page = await user.page('/t/demo/account');
    assert.equal((page.text.match(/data-passkey-id=/g) ?? []).length, 1);
  });
});
