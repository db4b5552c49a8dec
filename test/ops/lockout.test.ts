import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { down, up } from '../../migrations/tenant/0200_failed_attempts.ts';
import {
  checkLock,
  countLockedUsers,
  decide,
  DEFAULT_RULES,
  lockedAccounts,
  purgeFailedAttempts,
  recentFailedAttempts,
  recordFailure,
  recordSuccess,
  suspiciousActivity,
  unlock,
} from '../../src/lockout/index.ts';
import { DATABASE_URL, uniqueName } from './helpers.ts';

const schema = uniqueName('ops_lockout');
let admin: Kysely<any>;
let db: Kysely<any>;

before(async () => {
  admin = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 1 }) }) });
  await sql`create schema ${sql.id(schema)}`.execute(admin);
  // Every connection of this pool works inside the throwaway schema, as withTenant would arrange.
  db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 2, options: `-c search_path=${schema}` }) }) });
  await up(db);
});

after(async () => {
  await down(db);
  await db.destroy();
  await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
  await admin.destroy();
});

const t0 = new Date('2026-01-01T12:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('lockout rules', () => {
  it('waits grow exponentially up to the cap', () => {
    const rule = DEFAULT_RULES.otp;
    assert.equal(decide(rule, 4, t0).lockedUntil, undefined);
    assert.deepEqual(decide(rule, 5, t0).lockedUntil, at(30));
    assert.deepEqual(decide(rule, 6, t0).lockedUntil, at(60));
    assert.deepEqual(decide(rule, 7, t0).lockedUntil, at(120));
    assert.deepEqual(decide(rule, 60, t0).lockedUntil, at(3600));
    assert.equal(decide(rule, 100, t0).disabled, true);
  });
});

describe('failed attempts and lockout (PostgreSQL)', () => {
  it('locks TOTP after 5 consecutive failures with back-off, and a success resets the count', async () => {
    const user = randomUUID();
    for (let i = 1; i <= 4; i++) {
      const { state, events } = await recordFailure(db, { userId: user, factor: 'otp', reason: 'bad_code', ip: '192.0.2.1', now: at(i) });
      assert.equal(state.locked, false);
      assert.equal(events.length, 0);
    }
    const fifth = await recordFailure(db, { userId: user, factor: 'otp', reason: 'bad_code', ip: '192.0.2.1', now: at(5) });
    assert.equal(fifth.state.locked, true);
    assert.deepEqual(fifth.state.until, at(35));
    assert.equal(fifth.events[0].type, 'lockout.locked');
    assert.equal(fifth.events[0].subject, user);
    assert.equal(fifth.events[0].data.level, 0);

    assert.equal((await checkLock(db, user, 'otp', at(34))).locked, true);
    assert.equal((await checkLock(db, user, 'otp', at(35))).locked, false);
    // Other factors are not affected.
    assert.equal((await checkLock(db, user, 'nfc', at(10))).locked, false);

    const sixth = await recordFailure(db, { userId: user, factor: 'otp', reason: 'bad_code', now: at(40) });
    assert.deepEqual(sixth.state.until, at(100), 'second lock lasts twice as long');

    await recordSuccess(db, user, 'otp', at(200));
    const cleared = await checkLock(db, user, 'otp', at(200));
    assert.deepEqual(cleared, { locked: false, failures: 0 });
    const again = await recordFailure(db, { userId: user, factor: 'otp', reason: 'bad_code', now: at(201) });
    assert.equal(again.state.failures, 1);
    assert.equal(again.state.locked, false);
  });

  it('biometrics follow SP 800-63B: 5 tries (10 with PAD), then ≥30 s waits, disabled after 50 (100 with PAD)', async () => {
    const plain = randomUUID();
    let clock = 0;
    let last;
    for (let i = 1; i <= 5; i++) last = await recordFailure(db, { userId: plain, factor: 'face', reason: 'no_match', scores: { similarity: 0.31 }, now: at((clock += 1)) });
    assert.equal(last!.state.locked, true);
    assert.ok(last!.state.until!.getTime() - at(clock).getTime() >= 30_000);
    for (let i = 6; i <= 49; i++) last = await recordFailure(db, { userId: plain, factor: 'face', reason: 'no_match', now: at((clock += 4000)) });
    assert.equal(last!.state.disabled, undefined);
    last = await recordFailure(db, { userId: plain, factor: 'face', reason: 'no_match', now: at((clock += 4000)) });
    assert.equal(last.state.disabled, true);
    assert.equal(last.events[0].type, 'lockout.disabled');
    // Disabled outlives any wait, and a success (e.g. a stale request) does not re-enable it.
    await recordSuccess(db, plain, 'face', at(clock + 1));
    assert.equal((await checkLock(db, plain, 'face', at(clock + 10 ** 7))).disabled, true);

    const withPad = randomUUID();
    for (let i = 1; i <= 9; i++) last = await recordFailure(db, { userId: withPad, factor: 'face', reason: 'no_match', pad: true, now: at(i) });
    assert.equal(last!.state.locked, false, '10 allowed with PAD');
    last = await recordFailure(db, { userId: withPad, factor: 'face', reason: 'no_match', pad: true, now: at(10) });
    assert.equal(last.state.locked, true);
    assert.deepEqual(last.state.until, at(40));

    const events = await unlock(db, { userId: plain, actor: 'admin-1', now: at(clock + 2) });
    assert.deepEqual(events, [{ type: 'lockout.unlocked', subject: plain, actor: 'admin-1', data: { factor: 'face' } }]);
    assert.deepEqual(await checkLock(db, plain, 'face', at(clock + 3)), { locked: false, failures: 0 });
  });

  it('records unknown-user attempts without locking anyone, and answers the admin queries', async () => {
    const victim = randomUUID();
    const attackerIp = '203.0.113.66';
    const base = 10_000;
    for (let i = 0; i < 6; i++) await recordFailure(db, { userId: null, factor: 'otp', reason: 'unknown_user', ip: attackerIp, now: at(base + i) });
    for (let i = 0; i < 6; i++) await recordFailure(db, { userId: victim, factor: 'nfc', reason: 'replay', ip: attackerIp, userAgent: 'x'.repeat(2000), now: at(base + 10 + i) });

    const recent = await recentFailedAttempts(db, { hours: 1, now: at(base + 60) });
    assert.ok(recent.length >= 12);
    assert.ok(recent[0].at >= recent[recent.length - 1].at, 'newest first');
    assert.ok(recent.every((r) => (r.userAgent ?? '').length <= 512));
    assert.equal((await recentFailedAttempts(db, { hours: 1, userId: victim, now: at(base + 60) })).length, 6);

    const suspicious = await suspiciousActivity(db, { hours: 1, threshold: 10, now: at(base + 60) });
    assert.deepEqual(suspicious.ips.find((r) => r.ip === attackerIp), { ip: attackerIp, failures: 12, accounts: 1 });
    assert.equal(suspicious.accounts.find((r) => r.userId === victim), undefined, 'the victim has only 6');

    const locked = await lockedAccounts(db, { now: at(base + 16) });
    assert.ok(locked.some((r) => r.userId === victim && r.factor === 'nfc' && !r.disabled));
    assert.ok((await countLockedUsers(db, { now: at(base + 16) })) >= 1);
  });

  it('purges attempts past retention', async () => {
    const user = randomUUID();
    const now = at(100 * 24 * 3600);
    await recordFailure(db, { userId: user, factor: 'passkey', reason: 'bad_signature', now: new Date(now.getTime() - 31 * 24 * 3600 * 1000) });
    await recordFailure(db, { userId: user, factor: 'passkey', reason: 'bad_signature', now: new Date(now.getTime() - 29 * 24 * 3600 * 1000) });
    const purged = await purgeFailedAttempts(db, { now });
    assert.ok(purged >= 1);
    const left = await db.selectFrom('failed_attempts').select('at').where('user_id', '=', user).execute();
    assert.equal(left.length, 1);
  });
});
