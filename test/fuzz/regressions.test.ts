// 5xx the fuzzer (harness.ts) found, each kept as a plain regression test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';

const AUTH = 'client_id=demo-web&response_type=code&scope=openid&redirect_uri=http%3A%2F%2Flocalhost%3A3001%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256';

describe('fuzzer findings', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet();
  });
  after(async () => facet?.close());

  async function page(start: string) {
    const jar = new CookieJar();
    const step = await followRedirects(`${facet.baseUrl}${start}`, jar, { origin: facet.baseUrl });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await step.response!.text())?.[1];
    assert.ok(csrf, `no CSRF token on ${step.url}`);
    return { jar, csrf, url: step.url };
  }

  // Seed 99 of `npm run fuzz`: a JSON sign-up with "username": [] and a valid CSRF token answered
  // 500 (a ZodError from the form's schema).
  test('sign-up with a field that is not text: 400 invalid_request, not 500', async () => {
    for (const start of [`/t/demo/auth?${AUTH}`, '/t/demo/account/sign-in']) {
      const { jar, csrf, url } = await page(start);
      const signup = new URL(`${url.pathname}/signup`, facet.baseUrl);
      const bodies: Array<[string, string]> = [
        ['application/json', JSON.stringify({ csrf, username: [], email: 'a@example.com' })],
        ['application/json', JSON.stringify({ csrf, username: 'ok-name', email: { x: 1 } })],
        ['application/json', JSON.stringify({ csrf, username: 'ok-name', email: 'a@example.com', displayName: 7 })],
      ];
      for (const [type, body] of bodies) {
        const response = await fetch(signup, { method: 'POST', redirect: 'manual', headers: { cookie: jar.header(signup), 'content-type': type, accept: 'text/html' }, body });
        assert.equal(response.status, 400, `${start} ${body} answered ${response.status}`);
        // The sign-up form answers with a page (HTML) naming the problem.
        assert.match(await response.text(), /must be text/);
      }
    }
  });
});
