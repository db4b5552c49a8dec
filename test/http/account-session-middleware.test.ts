// The account session as a per-route middleware (src/account/session.ts): without a session the
// route does not run and the answer is a redirect to sign-in (pages) or a JSON 401; a route that
// reads accountOf(ctx) without the middleware is a programming error (500, not shown).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import Router from '@koa/router';
import { accountOf, accountSession, AccountSessionMissing } from '../../src/account/session.ts';
import type { InteractionDeps } from '../../src/interaction/flow.ts';
import type { TenantRuntime } from '../../src/oidc/runtime.ts';

describe('accountSession middleware', () => {
  let base = '';
  let server: ReturnType<Koa['listen']>;
  const ran: string[] = [];
  const thrown: unknown[] = [];
  before(async () => {
    const app = new Koa();
    app.keys = ['account-session-middleware-test'];
    // Without a session cookie the middleware never reaches the database or the config.
    const deps = {} as InteractionDeps;
    const router = new Router();
    router.get('/page', accountSession(deps), (ctx) => { ran.push('page'); ctx.body = accountOf(ctx).user.id; });
    router.post('/json', accountSession(deps, { html: (ctx) => ctx.get('accept') !== 'application/json' }), (ctx) => { ran.push('json'); ctx.body = 'x'; });
    router.get('/forgot', (ctx) => { ran.push('forgot'); ctx.body = accountOf(ctx).user.id; });
    app.use(async (ctx, next) => {
      ctx.state.tenant = { basePath: '/t/acme' } as TenantRuntime;
      try {
        await next();
      } catch (error) {
        thrown.push(error);
        ctx.status = 500;
        ctx.body = 'internal';
      }
    });
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => { server.close(); });

  test('a page without a session is sent to sign-in and the route does not run', async () => {
    const response = await fetch(`${base}/page`, { redirect: 'manual' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/t/acme/account/sign-in');
    assert.deepEqual(ran, []);
  });

  test('html decided per request: a JSON caller gets a 401 problem, a page caller the redirect', async () => {
    const json = await fetch(`${base}/json`, { method: 'POST', headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(json.status, 401);
    assert.match(json.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(((await json.json()) as { code?: string }).code, 'not_signed_in');
    const page = await fetch(`${base}/json`, { method: 'POST', headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.deepEqual(ran, []);
  });

  test('accountOf on a route without the middleware is an internal error, not shown', async () => {
    const response = await fetch(`${base}/forgot`);
    assert.equal(response.status, 500);
    assert.deepEqual(ran, ['forgot']);
    const error = thrown.at(-1);
    assert.ok(error instanceof AccountSessionMissing);
    assert.equal(error.status, 500);
    assert.equal(error.expose, false);
    assert.equal(error.code, 'account_session_missing');
  });
});
