// Bundles the page scripts (public/scripts/*.ts, with @simplewebauthn/browser; the console's
// Preact app, public/scripts/console.tsx) into public/build/,
// served from our own origin so the CSP can stay 'self'. Runs on `npm install` (postinstall) and
// `npm run build:assets`. Without esbuild (a production install that omits dev dependencies) it
// keeps an existing build, or says clearly that pages will lack their scripts.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(root, 'public/scripts');
const outDir = path.join(root, 'public/build');

let esbuild: typeof import('esbuild');
try {
  esbuild = await import('esbuild');
} catch {
  const built = existsSync(path.join(outDir, 'passkey.js'));
  console.warn(`build-assets: esbuild is not installed; ${built ? 'keeping the existing public/build' : 'public/build is missing, so passkey pages will not work until `npm run build:assets` runs with dev dependencies'}`);
  process.exit(0);
}

// A dependencies-only install (the Dockerfile's deps stage) has no page scripts to bundle.
if (!existsSync(sourceDir)) {
  console.warn('build-assets: no public/scripts here; nothing to bundle');
  process.exit(0);
}

const entryPoints = readdirSync(sourceDir)
  .filter((file) => file.endsWith('.ts') || file.endsWith('.tsx'))
  .map((file) => path.join(sourceDir, file));

const result = await esbuild.build({
  entryPoints,
  outdir: outDir,
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // TSX (the console) compiles against Preact's automatic runtime.
  jsx: 'automatic',
  jsxImportSource: 'preact',
});
const outputs = Object.entries(result.metafile.outputs).map(([file, meta]) => `${path.relative(root, file)} (${meta.bytes} B)`);
console.log(`build-assets: ${outputs.join(', ')}`);
