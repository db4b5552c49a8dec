// The chaos suite's key assertions in CI (shorter faults than `npm run chaos`): PostgreSQL restart
// and stop, Redis restart with data loss, Redis hang, all under load on Facet's own process, its
// own PostgreSQL cluster and its own redis-server. Nothing answers 5xx other than 503 or is reset,
// every fault recovers within 1 s of its end (the database ones) and nothing is lost or doubled.
// The worker kill runs on its own in test/ops/worker-kill.test.ts (it needs a second process and
// 20,000 filler audit rows; `npm run chaos` runs it inside the harness under the same load).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runChaos } from '../chaos/harness.ts';

test('chaos: faults recover, nothing lost or doubled', { timeout: 300_000 }, async () => {
  const report = await runChaos({ pgStopMs: 3000, redisHangMs: 4000, settleMs: 1500 });
  console.log(formatReport(report));
  assert.ok(report.processSurvived);
  assert.deepEqual(report.unexpected, []);
  for (const check of report.checks) assert.ok(check.ok, `${check.name}: ${check.detail}`);
  for (const fault of report.faults) {
    for (const [kind, ms] of Object.entries(fault.recoveryMs)) assert.ok(ms < 1000, `${fault.name}: ${kind} back after ${ms} ms`);
  }
});
