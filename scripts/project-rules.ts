// Rules no generic linter knows, as a function so a test can prove each one fires.
import { readFileSync } from 'node:fs';
import { globSync } from 'node:fs';
import path from 'node:path';

/** The only module allowed to remove user rows for real (users are soft-deleted everywhere else). */
export const ERASURE_MODULE = 'src/accounts/erasure.ts';

const BOUNDARIES: Array<[RegExp, string, string]> = [
  [/from ['"]onnxruntime-node['"]/, 'src/face/', 'onnxruntime-node'],
  [/from ['"]@simplewebauthn\/server['"]/, 'src/factors/passkey/', '@simplewebauthn/server'],
];

export function projectRuleViolations(root: string): string[] {
  const failures: string[] = [];
  for (const file of globSync('{src,migrations}/**/*.ts', { cwd: root })) {
    const text = readFileSync(path.join(root, file), 'utf8');
    if (file !== ERASURE_MODULE && (/delete\s+from\s+("?\w+"?\.)?"?users"?\b/i.test(text) || /deleteFrom\(\s*['"]users['"]/.test(text))) {
      failures.push(`${file}: hard delete of users outside ${ERASURE_MODULE} (users are soft-deleted)`);
    }
    if (file.startsWith('src/')) {
      for (const [pattern, home, name] of BOUNDARIES) {
        if (pattern.test(text) && !file.startsWith(home)) failures.push(`${file}: imports ${name}, which only ${home} may`);
      }
    }
  }
  return failures;
}
