// Lint = oxlint's correctness rules plus the project's own rules, which no generic linter knows.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { globSync } from 'node:fs';

const failures: string[] = [];

const oxlint = spawnSync('npx', ['oxlint', '--quiet', 'src', 'test', 'bench', 'scripts'], { stdio: 'inherit' });
if (oxlint.status !== 0) failures.push('oxlint reported errors');

// Users are soft-deleted. Only the erasure module may remove user rows for real.
const ERASURE_MODULE = 'src/accounts/erasure.ts';
for (const file of globSync('{src,migrations}/**/*.ts')) {
  if (file === ERASURE_MODULE) continue;
  const text = readFileSync(file, 'utf8');
  if (/delete\s+from\s+("?\w+"?\.)?"?users"?\b/i.test(text) || /deleteFrom\(\s*['"]users['"]/.test(text)) {
    failures.push(`${file}: hard delete of users outside ${ERASURE_MODULE} (users are soft-deleted)`);
  }
}

// Only src/face may import onnxruntime; only src/factors/passkey may import SimpleWebAuthn's server.
const boundaries: Array<[RegExp, string, string]> = [
  [/from ['"]onnxruntime-node['"]/, 'src/face/', 'onnxruntime-node'],
  [/from ['"]@simplewebauthn\/server['"]/, 'src/factors/passkey/', '@simplewebauthn/server'],
];
for (const file of globSync('src/**/*.ts')) {
  const text = readFileSync(file, 'utf8');
  for (const [pattern, home, name] of boundaries) {
    if (pattern.test(text) && !file.startsWith(home)) failures.push(`${file}: imports ${name}, which only ${home} may`);
  }
}

if (failures.length > 0) {
  for (const failure of failures) console.error(`lint: ${failure}`);
  process.exit(1);
}
console.log('lint: ok');
