// `npm run fuzz`: 10,000 generated requests over every route (FUZZ_RUNS and FUZZ_SEED to change),
// then a table of the statuses per route and every response ≥ 500 or slower than 2 s.
// Exits 1 when there is any.
// The hook that loads the pages under ui/ (.tsx) must be registered before the harness (and the
// server modules it imports) load, hence the dynamic import.
import '../../src/tsx-hooks.ts';
const { formatTable, runFuzz } = await import('./harness.ts');

const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
console.log(`fuzzing ${runs} requests, seed ${seed} (FUZZ_SEED=${seed} repeats this run)`);
const started = Date.now();
const result = await runFuzz({
  runs,
  seed,
  onProgress: (done) => {
    if (done % 1000 === 0) console.log(`  ${done} requests, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  },
});
await result.facet.close();
console.log(`\n${result.targets.length} routes, ${result.cases} requests in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
console.log(formatTable(result.table));
console.log(`\nslowest: ${Math.round(result.slowest.ms)} ms  ${result.slowest.request.slice(0, 300)}`);
console.log(`\n${result.failures.length} responses ≥ 500 or slower than 2 s`);
for (const failure of result.failures.slice(0, 50)) console.log(`  ${failure.status} ${failure.ms} ms  ${failure.request}\n      ${failure.body.replace(/\s+/g, ' ')}`);
process.exit(result.failures.length > 0 ? 1 : 0);
