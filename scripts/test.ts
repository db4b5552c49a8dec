// Runs the suite with Node's own test runner. With no arguments it runs every test file; with
// arguments, only the files or globs given (e.g. `npm test -- test/tenancy`).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const args = process.argv.slice(2).map((arg) =>
  existsSync(arg) && statSync(arg).isDirectory() ? `${arg.replace(/\/$/, '')}/**/*.test.ts` : arg,
);
const patterns = args.length > 0 ? args : ['test/**/*.test.ts'];

const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...patterns],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test' } },
);
process.exit(result.status ?? 1);
