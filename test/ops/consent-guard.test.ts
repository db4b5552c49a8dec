// Consent posted out of turn (issue 17, item 5): `POST …/interaction/<uid>/consent` while the
// interaction is still at its login prompt answered 500 (a TypeError on the missing session). It is
// a specific 400 page now, for both the form post and the page itself, and the interaction still
// works afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';

describe('consent while the prompt is still login', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet({ database: 'pglite' });
  });
  after(async () => facet?.close());

  test('a consent post at the login prompt is a 400 page, not a 500', async () => {
    const jar = new CookieJar();
    const start = new URL(`${facet.baseUrl}/t/demo/auth`);
    for (const [k, v] of Object.entries({ client_id: 'demo-web', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:3001/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) {
      start.searchParams.set(k, v);
    }
    const login = await followRedirects(start, jar, { origin: facet.baseUrl });
    assert.match(login.url.pathname, /\/interaction\/[^/]+$/);
    const page = await login.response!.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    assert.ok(csrf, 'the sign-in page carries a CSRF token');

    const consent = new URL(`${login.url.pathname}/consent`, facet.baseUrl);
    for (const decision of ['allow', 'deny']) {
      const response: Response = await fetch(consent, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(consent), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams({ csrf, decision }),
      });
      assert.equal(response.status, 400, `decision=${decision}`);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await response.text(), /<html/);
    }
    // As JSON, the same refusal as problem+json with its code.
    const api = await fetch(consent, { method: 'POST', headers: { cookie: jar.header(consent), 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ csrf, decision: 'allow' }) });
    assert.equal(api.status, 400);
    assert.equal(((await api.json()) as { code: string }).code, 'not_at_consent');
    // The interaction is untouched: its sign-in page still shows.
    const again = await fetch(login.url, { headers: { cookie: jar.header(login.url), accept: 'text/html' } });
    assert.equal(again.status, 200);
  });
});
