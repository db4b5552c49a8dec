// Lets Node load the TSX under ui/ (the server-rendered pages and their components). Node's type
// stripping reads .ts but not .tsx (ERR_UNKNOWN_FILE_EXTENSION), so a synchronous module hook
// compiles each .tsx file with esbuild (jsx automatic, preact) as it is loaded. Every entry point
// loads this file first: src/main.ts, src/cli/main.ts (bin/facet.js, `npm run facet`), bench/run.ts,
// and scripts/test.ts passes it to the test runner and every process it starts through
// NODE_OPTIONS=--import=<this file>. Registering twice is harmless (the second call does nothing).
import { readFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

type Esbuild = typeof import('esbuild');
const key = Symbol.for('facet.tsx-hooks');
const state = globalThis as { [key]?: boolean };

if (!state[key]) {
  state[key] = true;
  let esbuild: Esbuild | undefined;
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !/\.tsx(?:$|\?)/.test(url)) return nextLoad(url, context);
      const file = fileURLToPath(url);
      // Loaded on the first .tsx only, so processes that render no page pay nothing for esbuild.
      esbuild ??= createRequire(import.meta.url)('esbuild') as Esbuild;
      const { code } = esbuild.transformSync(readFileSync(file, 'utf8'), {
        loader: 'tsx',
        format: 'esm',
        jsx: 'automatic',
        jsxImportSource: 'preact',
        target: 'node22',
        sourcefile: file,
        sourcemap: 'inline',
      });
      return { format: 'module', source: code, shortCircuit: true };
    },
  });
}
