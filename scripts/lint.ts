// Lint = oxlint's correctness rules plus the project's own rules (scripts/project-rules.ts) and the
// shape of src/ (scripts/layering.ts: no import cycle, the oidc-provider door, core vs edge, typed data).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRuleViolations } from './project-rules.ts';
import { layeringViolations } from './layering.ts';

const failures: string[] = [];
const oxlint = spawnSync('npx', ['oxlint', '--quiet', 'src', 'test', 'bench', 'scripts', 'views', 'ui', 'public/scripts'], { stdio: 'inherit' });
if (oxlint.status !== 0) failures.push('oxlint reported errors');
failures.push(...projectRuleViolations(path.resolve(import.meta.dirname, '..')));
failures.push(...layeringViolations(path.resolve(import.meta.dirname, '..')));

if (failures.length > 0) {
  for (const failure of failures) console.error(`lint: ${failure}`);
  process.exit(1);
}
console.log('lint: ok');
