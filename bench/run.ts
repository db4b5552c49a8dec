// `npm run bench -- <name>`: runs bench/<name>.ts, which prints a table and writes
// bench/results/<name>.json. Benchmarks only talk to servers on this machine (loopback).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_')).map((f) => f.slice(0, -3));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}>`);
  process.exit(2);
}
// The pages under ui/ are TSX: the module hook for this process and, via NODE_OPTIONS, for the
// servers the benchmarks fork.
const tsxHooks = fileURLToPath(new URL('../src/tsx-hooks.ts', import.meta.url));
process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--import=${tsxHooks}`].filter(Boolean).join(' ');
await import('../src/tsx-hooks.ts');
await import(`./${name}.ts`);
