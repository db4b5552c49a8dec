// The shape of src/ (scripts/layering.ts): each rule fires on the code it forbids, and the real
// tree passes them all, so `npm run lint` keeps them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { importCycles, layeringViolations } from '../../scripts/layering.ts';
import { projectRoot } from '../support/facet.ts';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'facet-layering-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

test('each layering rule fires on the code it forbids', () => {
  const root = tree({
    'src/interaction/a.ts': "import { b } from './b.ts';\nexport const a = 1;\n",
    'src/interaction/b.ts': "import { a } from './a.ts';\nexport const b = 2;\n",
    'src/accounts/x.ts': "import Provider from 'oidc-provider';\nawait sql`select payload->>'accountId' from oidc_records`;\n",
    'src/oidc/ok.ts': "import Provider from 'oidc-provider';\nawait sql`select payload->>'accountId' from oidc_records`;\n",
    'src/factors/bad.ts': "import type { Context } from 'koa';\nimport { page } from '../../views/pages.ts';\nimport { flow } from '../interaction/flow.ts';\n",
    'src/face/m.ts': "import * as m from '../../migrations/tenant/0101_face_vectors.ts';\n",
    'src/admin/s.ts': 'const s = ctx.state.services;\n',
    'src/lockout/k.ts': "import type { Kysely } from 'kysely';\nexport const f = (db: Kysely<any>) => db;\n",
    'src/db/k.ts': "import type { Kysely } from 'kysely';\nexport type RootDb = Kysely<any>;\n",
    'src/account/q.ts': "import type Router from '@koa/router';\nexport const q = (trx) => trx.selectFrom('users').selectAll().execute();\n",
    'src/interaction/r.ts': "import type { Context } from 'koa';\nexport const r = (trx) => sql`select 1`.execute(trx);\n",
    'src/admin/users-api.ts': "import type Router from '@koa/router';\nexport const u = (trx) => trx.updateTable('users').set({ status: 'locked' }).execute();\n",
    'src/accounts/queries.ts': "export const ok = (trx) => trx.selectFrom('users').selectAll().execute();\n",
  });
  try {
    const violations = layeringViolations(root);
    const has = (pattern: RegExp) => assert.ok(violations.some((v) => pattern.test(v)), `${pattern} in\n${violations.join('\n')}`);
    has(/^import cycle: src\/interaction\/a\.ts → src\/interaction\/b\.ts$/);
    has(/^src\/accounts\/x\.ts: imports oidc-provider/);
    has(/^src\/accounts\/x\.ts: reads oidc-provider's stored payload shapes/);
    has(/^src\/factors\/bad\.ts: imports views\/pages\.ts/);
    has(/^src\/factors\/bad\.ts: imports src\/interaction\/flow\.ts/);
    has(/^src\/factors\/bad\.ts: imports Koa/);
    has(/^src\/face\/m\.ts: imports migrations\/tenant\/0101_face_vectors\.ts/);
    has(/^src\/admin\/s\.ts: ctx\.state\.services/);
    has(/^src\/lockout\/k\.ts: Kysely<any> outside src\/db\//);
    has(/^src\/account\/q\.ts: handles HTTP and writes a query/);
    has(/^src\/interaction\/r\.ts: handles HTTP and writes a query/);
    has(/^src\/admin\/users-api\.ts: handles HTTP and writes a query/);
    assert.ok(!violations.some((v) => v.startsWith('src/accounts/queries.ts')), 'a query module may query');
    assert.ok(!violations.some((v) => v.startsWith('src/oidc/') || v.startsWith('src/db/')), 'src/oidc and src/db may do what they are for');
    assert.equal(violations.length, 12, violations.join('\n'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cycles: a self-import and a longer ring are both found; a tree is not a cycle', () => {
  assert.deepEqual(importCycles(new Map([['a', ['a']]])), [['a']]);
  assert.deepEqual(importCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
  assert.deepEqual(importCycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), []);
});

test('the real tree follows the layering', () => {
  assert.deepEqual(layeringViolations(projectRoot), []);
});
