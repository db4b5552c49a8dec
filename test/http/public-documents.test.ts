// Discovery and JWKS from precomputed bytes (src/http/public-documents.ts, issue 16): the bytes
// the provider rendered, an ETag, 304 on If-None-Match, the caller's Origin in CORS, a request id
// each time, and a new document when the tenant's keys change.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { rotateKeys } from '../../src/keys/signing-keys.ts';
import { bumpConfigVersion, findTenant } from '../../src/tenancy/registry.ts';

describe('discovery and JWKS from precomputed bytes', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet();
  });
  after(async () => facet?.close());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${facet.baseUrl}${path}`, { headers });

  for (const path of ['/t/demo/.well-known/openid-configuration', '/t/demo/jwks']) {
    test(`${path}: the provider's bytes, then the stored copy with ETag and 304`, async () => {
      const first = await get(path);
      assert.equal(first.status, 200);
      const firstBody = await first.text();
      const second = await get(path, { origin: 'https://rp.example' });
      assert.equal(second.status, 200);
      assert.equal(await second.text(), firstBody, 'byte-identical to what the provider rendered');
      assert.equal(second.headers.get('content-type'), first.headers.get('content-type'));
      assert.equal(second.headers.get('content-length'), String(Buffer.byteLength(firstBody)));
      assert.equal(second.headers.get('access-control-allow-origin'), 'https://rp.example');
      assert.equal(second.headers.get('cache-control'), 'public, no-cache');
      const etag = second.headers.get('etag');
      assert.match(etag ?? '', /^"[A-Za-z0-9_-]{32}"$/);
      assert.ok(second.headers.get('x-request-id'));

      const third = await get(path);
      assert.equal(third.headers.get('access-control-allow-origin'), '*');
      assert.notEqual(third.headers.get('x-request-id'), second.headers.get('x-request-id'));

      for (const condition of [etag!, `W/${etag}`, `"other", ${etag}`, '*']) {
        const revalidated = await get(path, { 'if-none-match': condition });
        assert.equal(revalidated.status, 304, condition);
        assert.equal(await revalidated.text(), '');
        assert.equal(revalidated.headers.get('etag'), etag);
      }
      const stale = await get(path, { 'if-none-match': '"not-the-current-one"' });
      assert.equal(stale.status, 200);
      assert.equal(await stale.text(), firstBody);
    });
  }

  test('a query string is answered by the provider itself (nothing stored per query)', async () => {
    const plain = await (await get('/t/demo/.well-known/openid-configuration')).text();
    const queried = await get('/t/demo/.well-known/openid-configuration?x=1');
    assert.equal(queried.status, 200);
    assert.equal(queried.headers.get('etag'), null);
    assert.equal(await queried.text(), plain);
  });

  test('an unknown tenant is still a 404', async () => {
    assert.equal((await get('/t/nobody-here/.well-known/openid-configuration')).status, 404);
    assert.equal((await get('/t/nobody-here/jwks')).status, 404);
  });

  test('rotating the keys (config_version bumped) publishes a new JWKS with a new ETag', async () => {
    await get('/t/demo/jwks');
    const before = await get('/t/demo/jwks');
    const beforeKids = ((await before.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const tenant = (await findTenant(facet.database.db, 'demo'))!;
    const rotated = await withTenant(facet.database.db, tenant, (trx) => rotateKeys(trx, { kek: facet.config.kek, slug: 'demo', overlapSeconds: 3600 }));
    await bumpConfigVersion(facet.database.db, 'demo');
    const deadline = Date.now() + 10_000;
    let kids: string[] = beforeKids;
    let etag = before.headers.get('etag');
    while (Date.now() < deadline) {
      const now = await get('/t/demo/jwks', { 'if-none-match': before.headers.get('etag')! });
      if (now.status === 200) {
        kids = ((await now.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
        // The first answer after the rebuild comes from the provider; the next carries the new ETag.
        etag = (await get('/t/demo/jwks')).headers.get('etag');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const kid of rotated.created) assert.ok(kids.includes(kid), `new key ${kid} published`);
    assert.notEqual(etag, before.headers.get('etag'));
  });
});
