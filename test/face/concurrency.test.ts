// Face checks must not starve the database pool: the engine's analysis runs before the tenant
// transaction opens. This test holds 8 face step-up checks in flight at once over HTTP (real ONNX
// models, real LFW photos performing the challenge's head turns, six frames each as the page sends)
// and measures client_credentials token requests on ANOTHER tenant against a baseline taken in the
// same run: p95 under load must stay below max(3 × baseline p95, baseline p95 + 250 ms).
//
// The other tenant's API takes opaque access tokens, so each token request stores one and needs a
// pooled connection (a JWT access token needs no database, and could not show a starved pool).
//
// It runs twice: with the shipped pool of 10 connections, and with FACET_DB_POOL_SIZE=4, fewer
// connections than checks in flight. The engine analyses one frame at a time, so with the analysis
// inside the transaction every check holds a connection while it waits its turn: at 4 the checks
// take every connection and the first token requests queue behind them (measured: p95 0.6-1 s on
// this machine, against a limit of about 260 ms). At 10, 8 checks leave two connections free, so
// the first run alone could not tell the difference; the second one can.
//
// Also: two submissions of one challenge at the same moment — exactly one is accepted.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { startTestFacet, type TestFacet, projectRoot } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { discover } from '../support/rp.ts';
import { modelsDir, faceDataDir } from '../support/shared-data.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, bumpConfigVersion } from '../../src/tenancy/registry.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { readTenantFile } from '../../src/tenancy/tenant-file.ts';
import { csrfToken } from '../../src/interaction/http.ts';
import { csrfKey } from '../../src/interaction/flow.ts';

const CHECKS = 8;
const lfw = (person: string, index: number) => path.join(faceDataDir, 'images', person, `${person}_${String(index).padStart(4, '0')}.jpg`);
// Barroso 4 looks straight, 3 turns to his left, 5 to his right (test/face/liveness.test.ts).
const STEPS = 'straight,left,right';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

for (const poolSize of [10, 4]) describe(`face checks and a database pool of ${poolSize}`, { timeout: 240_000 }, () => {
  let facet: TestFacet;
  let images: string[];
  const callback = 'http://localhost:3001/callback';
  let rp: client.Configuration;

  before(async () => {
    facet = await startTestFacet({ env: { FACET_MODELS_DIR: modelsDir, FACET_DB_POOL_SIZE: String(poolSize) } });
    assert.ok(facet.config.database.kind === 'postgres', 'this test needs real PostgreSQL (DATABASE_URL)');
    assert.equal(facet.services.face.status().available, true, 'face models are available');
    // The other tenant: the demo file under another slug, with its client_credentials client and
    // opaque (stored) access tokens.
    const file = await readTenantFile(path.join(projectRoot, 'tenants/demo.yaml'));
    const resources = file.resources.map((r) => ({ ...r, access_token_format: 'opaque' as const }));
    await applyTenantFile(facet.database.db, { ...file, slug: 'other', name: 'Other Organisation', resources }, { kek: facet.config.kek, production: false });
    await bumpConfigVersion(facet.database.db, 'other');
    images = await Promise.all([4, 4, 3, 3, 5, 5].map(async (i) => (await readFile(lfw('Jose_Manuel_Durao_Barroso', i))).toString('base64')));
    rp = await discover(`${facet.baseUrl}/t/demo`, 'demo-web', 'demo-web-dev-secret');
    // Warm the engine (ONNX sessions) so the first check does not pay for it inside the measurement.
    const service = await facet.services.face.service();
    await service.analyse([Buffer.from(images[0]!, 'base64')], { challenge: false });
  });

  after(async () => {
    await facet?.close();
  });

  /** A user with an enrolled face, in an interaction asking for passkey+face where the passkey is done. */
  async function faceCheckReady(name: string) {
    const demo = (await findTenant(facet.database.db, 'demo'))!;
    const service = await facet.services.face.service();
    const userId = await withTenant(facet.database.db, demo, async (trx) => {
      const user = await createUser(trx, { username: name });
      await service.enroll(trx, user.id, [Buffer.from(images[0]!, 'base64')]);
      return user.id;
    });
    const jar = new CookieJar();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: callback,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      acr_values: 'urn:facet:acr:passkey+face',
    });
    const step = await followRedirects(url, jar, { origin: facet.baseUrl });
    const uid = /\/interaction\/([^/]+)$/.exec(step.url.pathname)?.[1];
    assert.ok(uid, `an interaction started (${step.url})`);
    const binding = `interaction:${uid}`;
    // The passkey step of this interaction, as the passkey page records it (src/interaction/step-up.ts).
    await withTenant(facet.database.db, demo, (trx) =>
      trx
        .insertInto('pending_logins')
        .values({
          binding: `stepup:${binding}`,
          user_id: userId,
          data: JSON.stringify({ userId, factors: [{ factor: 'passkey', at: Math.floor(Date.now() / 1000), amr: ['hwk', 'user'] }] }),
          expires_at: new Date(Date.now() + 10 * 60_000),
        })
        .execute(),
    );
    const base = new URL(`/t/demo/interaction/${uid}/stepup/face`, facet.baseUrl);
    const csrf = csrfToken(csrfKey(facet.config), binding);
    const post = (suffix: string, body: unknown) =>
      fetch(new URL(`${base.pathname}/${suffix}`, facet.baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: jar.header(base) },
        body: JSON.stringify(body),
      });
    const issued = await post('challenge', { csrf, testSteps: STEPS });
    assert.equal(issued.status, 200, await issued.clone().text());
    const { id } = (await issued.json()) as { id: string };
    return {
      userId,
      /** Sends the three frames of the challenge; resolves with the status and body. */
      async verify() {
        // The frames are placed a few ms before sending; they must not predate the challenge.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const sentAt = Date.now();
        const response = await post('verify', { csrf, challengeId: id, sentAt, frames: images.map((image, i) => ({ image, at: sentAt - images.length + i })) });
        return { status: response.status, body: (await response.json()) as { code?: string; redirect?: string; error?: string } };
      },
    };
  }

  async function tokenLatency(): Promise<number> {
    const started = performance.now();
    const response = await fetch(`${facet.baseUrl}/t/other/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }),
    });
    const body = (await response.json()) as { access_token?: string; error?: string };
    const elapsed = performance.now() - started;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.ok(body.access_token && body.access_token.split('.').length === 1, 'an opaque (stored) access token');
    return elapsed;
  }

  test(`${CHECKS} concurrent face checks leave token requests on another tenant at their normal latency`, async () => {
    const checks = [];
    for (let i = 0; i < CHECKS; i += 1) checks.push(await faceCheckReady(`load${i}`));

    // Baseline, in this process and this run.
    for (let i = 0; i < 5; i += 1) await tokenLatency();
    const baseline: number[] = [];
    for (let i = 0; i < 20; i += 1) baseline.push(await tokenLatency());
    const baseP95 = percentile(baseline, 95);

    // Under load: the 8 checks at once, token requests one after another until they are all done.
    let done = 0;
    const started = performance.now();
    const verifying = checks.map((c) => c.verify().finally(() => (done += 1)));
    const loaded: number[] = [];
    while (done < CHECKS) {
      loaded.push(await tokenLatency());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const results = await Promise.all(verifying);
    const loadMs = performance.now() - started;
    const loadP95 = percentile(loaded, 95);
    const limit = Math.max(3 * baseP95, baseP95 + 250);
    const summary = `pool ${poolSize}: baseline p95 ${baseP95.toFixed(0)} ms (median ${percentile(baseline, 50).toFixed(0)}), under load p95 ${loadP95.toFixed(0)} ms (median ${percentile(loaded, 50).toFixed(0)}) / max ${Math.max(...loaded).toFixed(0)} ms over ${loaded.length} requests in ${loadMs.toFixed(0)} ms; limit ${limit.toFixed(0)} ms`;
    console.log(`face concurrency: ${summary}`);

    // The checks were real and all passed: passkey+face reached, so the login continues.
    for (const result of results) assert.equal(result.status, 200, JSON.stringify(result.body));
    // A starved pool shows as a few token requests each waiting for a connection, so the p95 of
    // the requests made while the checks ran (the slowest of them when there are few) is the measure.
    assert.ok(loadP95 < limit, `token requests on another tenant stay within their normal latency: ${summary}`);
  });

  test('one challenge submitted twice at the same moment is accepted once', async () => {
    const check = await faceCheckReady('twice');
    const [a, b] = await Promise.all([check.verify(), check.verify()]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 400], JSON.stringify([a, b]));
    const refused = a.status === 400 ? a : b;
    assert.equal(refused.body.code, 'challenge_gone');
    // And a third time, later: not accepted either.
    assert.notEqual((await check.verify()).status, 200);
  });
});
