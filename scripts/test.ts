// Runs the suite with Node's own test runner. With no arguments it runs every test file; with
// arguments, only the files or globs given (e.g. `npm test -- test/tenancy`).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The test files and every process they start (servers, the CLI, workers) load the TSX under ui/
// through the module hook in src/tsx-hooks.ts, passed on in NODE_OPTIONS.
const tsxHooks = fileURLToPath(new URL('../src/tsx-hooks.ts', import.meta.url));
const nodeOptions = [process.env.NODE_OPTIONS, `--import=${tsxHooks}`].filter(Boolean).join(' ');

const args = process.argv.slice(2).map((arg) =>
  existsSync(arg) && statSync(arg).isDirectory() ? `${arg.replace(/\/$/, '')}/**/*.test.ts` : arg,
);
const patterns = args.length > 0 ? args : ['test/**/*.test.ts'];

const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...patterns],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test', NODE_OPTIONS: nodeOptions } },
);
process.exit(result.status ?? 1);
