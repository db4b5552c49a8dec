// `npm run chaos`: the chaos suite with the durations (15 s PostgreSQL stop, 20 s Redis
// hang). Starts its own PostgreSQL cluster and redis-server; prints the table; exits 1 when a
// check failed, something answered 5xx other than 503 or was reset, or a fault never recovered.
// The hook that loads the pages under ui/ (.tsx) must be registered before the harness (and the
// server modules it imports) load, hence the dynamic import.
import '../../src/tsx-hooks.ts';
const { FULL, formatReport, runChaos } = await import('./harness.ts');

const report = await runChaos({ ...FULL, log: (line) => process.stdout.write(`${line}\n`) });
process.stdout.write(`${formatReport(report)}\n`);
const unrecovered = report.faults.some((f) => Object.values(f.recoveryMs).some((ms) => !Number.isFinite(ms)));
process.exit(report.checks.every((c) => c.ok) && report.unexpected.length === 0 && !unrecovered ? 0 : 1);
