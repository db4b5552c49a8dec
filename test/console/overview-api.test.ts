// The overview's figures (issue 12), from the audit trail: authentications by factor and outcome,
// active users (daily, monthly), sign-ups, failed attempts, lockouts, refresh reuse, face outcomes,
// per UTC day — read by an auditor through the console, refused to helpdesk. Runs on embedded PGlite, and on
// real PostgreSQL too when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { backends } from '../support/backends.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { finishInteractions } from '../support/code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { grantRole } from '../../src/admin/roles.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { overview, type Overview } from '../../src/admin/overview-api.ts';

interface Session {
  jar: CookieJar;
  csrf: string;
}

for (const backend of backends) {
  describe(`console overview figures (${backend})`, () => {
    let facet: TestFacet;
    let demo: TenantRecord;
    const ids: Record<string, string> = {};
    const sessions: Record<string, Session> = {};

    async function signIn(sub: string): Promise<Session> {
      const jar = new CookieJar();
      const origin = facet.baseUrl;
      const step = await finishInteractions(await followRedirects(`${origin}/t/demo/console/users`, jar, { origin }), jar, { origin, sub });
      return { jar, csrf: /data-csrf="([^"]+)"/.exec(await step.response!.text())![1]! };
    }
    const get = (who: Session, route: string) => fetch(`${facet.baseUrl}/t/demo/console/api${route}`, { headers: { cookie: who.jar.header(new URL(`${facet.baseUrl}/t/demo/console/api`)) } });
    const last = <T,>(series: T[]) => series[series.length - 1]!;
    const auth = (o: Overview, factor: string, outcome: string) => o.authentications.find((a) => a.factor === factor && a.outcome === outcome)!.counts;

    before(async () => {
      facet = await startTestFacet({ database: backend });
      demo = (await findTenant(facet.database.db, 'demo'))!;
      await withTenant(facet.database.db, demo, async (trx) => {
        for (const name of ['aud', 'hal', 'u1', 'u2', 'u3']) ids[name] = (await createUser(trx, { username: `ov-${name}`, email: `ov-${name}@demo.example` })).id;
        await grantRole(trx, { userId: ids.aud!, role: 'auditor', source: 'cli', actor: 'test' });
        await grantRole(trx, { userId: ids.hal!, role: 'helpdesk', source: 'cli', actor: 'test' });
      });
      sessions.aud = await signIn(ids.aud!);
      sessions.hal = await signIn(ids.hal!);
    });
    after(async () => facet?.close());

    test('an auditor reads the daily figures; each event type lands in its series on its UTC day', async () => {
      const before = (await (await get(sessions.aud!, '/stats/overview?days=7')).json()) as Overview;
      assert.equal(before.days.length, 7);
      assert.equal(last(before.days), new Date().toISOString().slice(0, 10));
      await withTenant(facet.database.db, demo, async (trx) => {
        const signIn = (subject: string) => appendAudit(trx, { type: 'passkey.sign_in', subject, data: { credential_id: 'c', amr: ['hwk'] } });
        await signIn(ids.u1!);
        await signIn(ids.u1!);
        await signIn(ids.u2!);
        await appendAudit(trx, { type: 'passkey.sign_in_failed', data: { reason: 'unknown_credential' } });
        await appendAudit(trx, { type: 'factor.otp.failed', subject: ids.u1!, data: { reason: 'wrong_code' } });
        await appendAudit(trx, { type: 'factor.face.verified', subject: ids.u2!, data: {} });
        await appendAudit(trx, { type: 'factor.face.failed', subject: ids.u3!, data: { reason: 'liveness' } });
        await appendAudit(trx, { type: 'factor.face.failed', subject: ids.u3!, data: { reason: 'liveness' } });
        await appendAudit(trx, { type: 'factor.face.failed', subject: ids.u3!, data: { reason: 'no_match' } });
        await appendAudit(trx, { type: 'user.signed_up', subject: ids.u3!, data: { username: 'ov-u3' } });
        await appendAudit(trx, { type: 'lockout.locked', subject: ids.u1!, data: { factor: 'otp', failures: 5, level: 1 } as never });
        await appendAudit(trx, { type: 'refresh_token.reuse_detected', subject: ids.u2!, data: { grant_id: 'g', reason: 'reuse', family_generation: 2 } });
        await appendAudit(trx, { type: 'token.issued', subject: ids.u3!, clientId: 'demo-web', data: { grant_type: 'refresh_token', kinds: ['AccessToken'], scope: null } });
      });
      const now = (await (await get(sessions.aud!, '/stats/overview?days=7')).json()) as Overview;
      const delta = (pick: (o: Overview) => number[]) => last(pick(now)) - last(pick(before));
      assert.deepEqual(
        {
          passkeyOk: delta((o) => auth(o, 'passkey', 'success')),
          passkeyFailed: delta((o) => auth(o, 'passkey', 'failure')),
          otpFailed: delta((o) => auth(o, 'otp', 'failure')),
          faceOk: delta((o) => auth(o, 'face', 'success')),
          faceFailed: delta((o) => auth(o, 'face', 'failure')),
          dailyActive: delta((o) => o.activeUsers.daily),
          monthlyActive: delta((o) => o.activeUsers.monthly),
          signUps: delta((o) => o.signUps),
          failed: delta((o) => o.failedAttempts),
          lockouts: delta((o) => o.lockouts),
          reuse: delta((o) => o.refreshReuse),
        },
        { passkeyOk: 3, passkeyFailed: 1, otpFailed: 1, faceOk: 1, faceFailed: 3, dailyActive: 3, monthlyActive: 3, signUps: 1, failed: 5, lockouts: 1, reuse: 1 },
      );
      assert.deepEqual(now.face.failureReasons, [
        { reason: 'liveness', count: 2 },
        { reason: 'no_match', count: 1 },
      ]);
      // Earlier days are untouched by today's events.
      assert.deepEqual(now.signUps.slice(0, -1), before.signUps.slice(0, -1));
    });

    test('days are UTC days: seen from tomorrow, today is the day before the last; monthly still counts it', async () => {
      const tomorrow = new Date(Date.now() + 86_400_000);
      const o = await withTenant(facet.database.db, demo, (trx) => overview(trx, { days: 3, now: tomorrow }));
      assert.equal(o.days.length, 3);
      assert.equal(o.days[1], new Date().toISOString().slice(0, 10));
      assert.deepEqual(o.signUps, [0, 1, 0]);
      assert.deepEqual(o.face.verified, [0, 1, 0]);
      assert.equal(o.activeUsers.daily[2], 0);
      assert.ok(o.activeUsers.monthly[2]! >= 3, 'the 30 days up to tomorrow include today');
    });

    test('refused: days outside 1–90 (400), helpdesk (403)', async () => {
      assert.equal((await get(sessions.aud!, '/stats/overview?days=91')).status, 400);
      const helpdesk = await get(sessions.hal!, '/stats/overview');
      assert.deepEqual([helpdesk.status, ((await helpdesk.json()) as { code: string }).code], [403, 'role_forbidden']);
    });
  });
}
