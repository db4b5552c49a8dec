// The project's own lint rules fire on the code they forbid, and the real tree passes them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { projectRuleViolations } from '../../scripts/project-rules.ts';
import { projectRoot } from '../support/facet.ts';

test('a hard DELETE FROM users outside the erasure module fails the build', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'facet-rules-'));
  try {
    mkdirSync(path.join(root, 'src/accounts'), { recursive: true });
    mkdirSync(path.join(root, 'src/admin'), { recursive: true });
    writeFileSync(path.join(root, 'src/admin/cleanup.ts'), "await sql`DELETE FROM users WHERE id = ${id}`;\n");
    writeFileSync(path.join(root, 'src/admin/kysely.ts'), "await trx.deleteFrom('users').where('id', '=', id).execute();\n");
    writeFileSync(path.join(root, 'src/accounts/erasure.ts'), "await trx.deleteFrom('users').execute();\n");
    writeFileSync(path.join(root, 'src/admin/face.ts'), "import ort from 'onnxruntime-node';\n");
    const violations = projectRuleViolations(root).sort();
    assert.equal(violations.length, 3, violations.join('\n'));
    assert.match(violations[0]!, /src\/admin\/cleanup\.ts: hard delete of users/);
    assert.match(violations[1]!, /src\/admin\/face\.ts: imports onnxruntime-node/);
    assert.match(violations[2]!, /src\/admin\/kysely\.ts: hard delete of users/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an error class outside the one family, or views imported by src/errors/, fails the build', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'facet-rules-'));
  try {
    mkdirSync(path.join(root, 'src/errors'), { recursive: true });
    mkdirSync(path.join(root, 'src/factors'), { recursive: true });
    writeFileSync(path.join(root, 'src/errors/facet-error.ts'), 'export abstract class FacetError extends Error {}\n');
    writeFileSync(path.join(root, 'src/factors/bad.ts'), 'export class BadError extends Error {}\n');
    writeFileSync(path.join(root, 'src/factors/good.ts'), "import { FacetError } from '../errors/facet-error.ts';\nexport class GoodError extends FacetError { readonly code = 'good'; }\n");
    writeFileSync(path.join(root, 'src/errors/page.ts'), "import { messagePage } from '../../ui/components/layout.tsx';\n");
    const violations = projectRuleViolations(root).sort();
    assert.equal(violations.length, 2, violations.join('\n'));
    assert.match(violations[0]!, /src\/errors\/page\.ts: src\/errors\/ imports the views/);
    assert.match(violations[1]!, /src\/factors\/bad\.ts: an error class extends Error directly/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the project tree follows its rules', () => {
  assert.deepEqual(projectRuleViolations(projectRoot), []);
});
