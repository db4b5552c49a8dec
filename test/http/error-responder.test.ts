// The one error responder: the same error becomes OAuth JSON, problem+json or a page by route and
// by what the caller asked for; reasons travel as codes; internals never leak.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { errorHandler, respondRateLimited } from '../../src/http/error-responder.ts';
import { HttpError, tooManyRequests } from '../../src/errors/http-errors.ts';
import { FacetError } from '../../src/errors/facet-error.ts';
import { DatabaseUnavailableError } from '../../src/db/errors.ts';
import { ConfigError } from '../../src/config/index.ts';

class InternalThing extends FacetError {
  readonly code = 'internal_thing';
}

describe('error responder', () => {
  const unexpected: unknown[] = [];
  let base = '';
  let server: ReturnType<Koa['listen']>;
  before(async () => {
    const app = new Koa();
    app.use(errorHandler({ onUnexpected: (error) => unexpected.push(error) }));
    app.use(async (ctx) => {
      const kind = ctx.query.throw;
      if (kind === 'bad') throw new HttpError(400, 'invalid_request', 'Bad request', 'the thing is wrong');
      if (kind === 'limited') throw tooManyRequests(7, 'Slow down, please.');
      if (kind === 'limited-page') return respondRateLimited(ctx, 3, { page: () => void Object.assign(ctx, { type: 'html', body: '<form>again</form>' }) });
      if (kind === 'domain') throw new InternalThing('secret internals: /etc/key');
      if (kind === 'config') throw new ConfigError('FACET_KEK is weak');
      if (kind === 'outage') throw new Error('step failed', { cause: new DatabaseUnavailableError(new Error('ECONNREFUSED')) });
      ctx.body = { ok: true };
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  const get = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers });

  test('an OAuth endpoint answers OAuth error JSON for errors OAuth has a code for', async () => {
    const bad = await get('/t/demo/token?throw=bad', {}, { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'invalid_request', error_description: 'the thing is wrong' });
    const limited = await get('/t/demo/token?throw=limited', { accept: 'text/html' }, { method: 'POST' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.deepEqual(await limited.json(), { error: 'temporarily_unavailable', error_description: 'Slow down, please.' });
  });

  test('the browser OAuth endpoints give a page to a browser and OAuth JSON to a program', async () => {
    const page = await get('/t/demo/auth?throw=bad', { accept: 'text/html' });
    assert.equal(page.status, 400);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    const html = await page.text();
    assert.match(html, /the thing is wrong/);
    assert.match(html, /Error code: invalid_request/);
    assert.equal(((await (await get('/t/demo/auth?throw=bad', { accept: 'application/json' })).json()) as { error: string }).error, 'invalid_request');
  });

  test('the admin API, JSON bodies and JSON-preferring callers get problem+json; browsers a page', async () => {
    for (const response of [
      await get('/t/demo/admin/api/locked?throw=limited', { accept: 'text/html' }),
      await get('/t/demo/account/face?throw=limited', { accept: 'text/html', 'content-type': 'application/json' }, { method: 'POST', body: '{}' }),
      await get('/t/demo/account?throw=limited', { accept: 'application/json' }),
    ]) {
      assert.equal(response.status, 429);
      assert.equal(response.headers.get('retry-after'), '7');
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const problem = (await response.json()) as Record<string, unknown>;
      assert.equal(problem.type, 'https://facet.dev/problems/rate_limited');
      assert.equal(problem.code, 'rate_limited');
      assert.equal(problem.status, 429);
      assert.equal(problem.title, 'Too Many Requests');
      assert.equal(problem.detail, 'Slow down, please.');
      assert.equal(problem.retry_after, 7);
    }
    const page = await get('/t/demo/account?throw=limited', { accept: 'text/html' });
    assert.equal(page.status, 429);
    assert.equal(page.headers.get('retry-after'), '7');
    assert.match(await page.text(), /<h1>Too many attempts<\/h1><p>Slow down, please\.<\/p>/);
  });

  test("a route's own 429 page is used for browsers, with Retry-After; JSON callers still get problem+json", async () => {
    const page = await get('/t/demo/account/totp?throw=limited-page', { accept: 'text/html' });
    assert.equal(page.status, 429);
    assert.equal(page.headers.get('retry-after'), '3');
    assert.equal(await page.text(), '<form>again</form>');
    const json = await get('/t/demo/account/totp?throw=limited-page', { accept: 'application/json' });
    assert.equal(json.status, 429);
    assert.equal(((await json.json()) as { detail: string }).detail, 'Too many requests. Try again in 3 seconds.');
  });

  test('errors of the family that are not exposed are a bare 500, reported once, with nothing of their message', async () => {
    for (const kind of ['domain', 'config']) {
      unexpected.length = 0;
      const response = await get(`/t/demo/account?throw=${kind}`, { accept: 'application/json' });
      assert.equal(response.status, 500);
      const text = await response.text();
      assert.doesNotMatch(text, /secret internals|FACET_KEK/);
      assert.equal((JSON.parse(text) as { code: string }).code, 'internal_error');
      assert.equal(unexpected.length, 1);
      assert.ok(unexpected[0] instanceof FacetError);
    }
  });

  test('a database outage anywhere in the cause chain is a 503 with Retry-After', async () => {
    const oauth = await get('/t/demo/token?throw=outage', {}, { method: 'POST' });
    assert.equal(oauth.status, 503);
    assert.ok(Number(oauth.headers.get('retry-after')) >= 1);
    assert.equal(((await oauth.json()) as { error: string }).error, 'temporarily_unavailable');
    const api = await get('/t/demo/admin/api/locked?throw=outage');
    assert.equal(api.status, 503);
    assert.equal(((await api.json()) as { code: string }).code, 'temporarily_unavailable');
  });

  test('every error class carries code, status and expose', () => {
    const error = new InternalThing('x');
    assert.equal(error.code, 'internal_thing');
    assert.equal(error.status, 500);
    assert.equal(error.expose, false);
    assert.equal(error.name, 'InternalThing');
    const http = new HttpError(404, 'not_found', 'Not found', 'no such user');
    assert.deepEqual([http.code, http.status, http.expose, http.detail], ['not_found', 404, true, 'no such user']);
  });
});
