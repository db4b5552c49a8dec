// Rules no generic linter knows, as a function so a test can prove each one fires.
import { readFileSync } from 'node:fs';
import { globSync } from 'node:fs';
import path from 'node:path';

/** The only module allowed to remove user rows for real (users are soft-deleted everywhere else). */
export const ERASURE_MODULE = 'src/accounts/erasure.ts';

/** The base of the one error family. */
export const ERROR_BASE = 'src/errors/facet-error.ts';

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
      // One error family: every error class extends FacetError (code, status, expose).
      if (file !== ERROR_BASE && /class\s+\w+\s+extends\s+(?:Error|TypeError|RangeError)\b/.test(text)) {
        failures.push(`${file}: an error class extends Error directly; extend FacetError (${ERROR_BASE})`);
      }
      // Reasons travel as codes: src/errors/ renders nothing, so it never imports the views.
      if (file.startsWith('src/errors/') && /from ['"][./]*(?:views|ui)\//.test(text)) failures.push(`${file}: src/errors/ imports the views (ui/ or views/; render pages at the HTTP edge)`);
      for (const [pattern, home, name] of BOUNDARIES) {
        if (pattern.test(text) && !file.startsWith(home)) failures.push(`${file}: imports ${name}, which only ${home} may`);
      }
    }
  }
  return failures;
}
