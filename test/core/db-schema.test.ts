// src/db/schema.ts (the table types every tenant transaction is checked against) is what the
// migrations make: rebuilt here from a freshly migrated database and compared with the committed
// file. Fails when a migration changes a table and `node scripts/db-schema.ts` was not run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generateDbSchema } from '../../src/db/schema-reader.ts';
import { projectRoot } from '../support/facet.ts';

test('src/db/schema.ts matches the migrations', async () => {
  const committed = readFileSync(path.join(projectRoot, 'src/db/schema.ts'), 'utf8');
  const fresh = await generateDbSchema();
  assert.equal(committed, fresh, 'run `node scripts/db-schema.ts` and commit src/db/schema.ts');
  // The generator reads real tables: a few it must have seen.
  for (const table of ['users', 'audit_events', 'session_factors', 'factor_lockouts', 'oidc_records']) assert.match(fresh, new RegExp(`\\b${table}: `));
});
