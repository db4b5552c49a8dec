// The facet CLI as a user runs it: separate processes against one embedded database directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { projectRoot } from '../support/facet.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'facet-cli-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

function facet(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, FACET_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  const result = spawnSync(process.execPath, [path.join(projectRoot, 'bin/facet.js'), ...args], { env, encoding: 'utf8', cwd: projectRoot });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

test('usage, unknown commands and bad arguments exit non-zero with a specific message', () => {
  const none = facet();
  assert.equal(none.code, 2);
  assert.match(none.out, /facet tenant create <slug>/);
  const unknown = facet('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "frobnicate"/);
  const missing = facet('tenant', 'create');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing argument/);
  const badFlag = facet('tenant', 'list', '--colour');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.err, /Unknown option '--colour'/);
});

test('tenant create, apply (idempotent), list, keys rotate, migrate', () => {
  const created = facet('tenant', 'create', 'acme-co', '--name', 'Acme Co');
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, /created tenant acme-co \(schema tenant_acme_co, role facet_[a-z0-9]+_acme_co\)/);
  assert.equal(facet('tenant', 'create', 'acme-co').code, 1);
  const bad = facet('tenant', 'create', 'Not_OK');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /invalid tenant slug/);

  const demo = path.join(projectRoot, 'tenants/demo.yaml');
  assert.match(facet('tenant', 'apply', demo).out, /tenant demo: created; clients added \[demo-web, demo-service, demo-admin\]/);
  assert.match(facet('tenant', 'apply', demo).out, /settings unchanged; clients added \[\] updated \[\] removed \[\] unchanged \[demo-web, demo-service, demo-admin\]/);
  const missingFile = facet('tenant', 'apply', '/nonexistent.yaml');
  assert.equal(missingFile.code, 1);

  const list = facet('tenant', 'list');
  assert.match(list.out, /acme-co\s+active\s+Acme Co/);
  assert.match(list.out, /demo\s+active\s+Demo Organisation/);

  const rotated = facet('keys', 'rotate', '--tenant', 'acme-co');
  assert.equal(rotated.code, 0, rotated.err);
  assert.match(rotated.out, /new keys \[es256-[^,]+, rs256-[^\]]+\]; in overlap for \d+s \[es256-/);
  assert.equal(facet('keys', 'rotate').code, 1);

  const migrated = facet('migrate');
  assert.match(migrated.out, /control: up to date\ntenant acme-co: up to date\ntenant demo: up to date/);

  const audit = facet('jobs', 'run', 'verify-audit-chains');
  assert.equal(audit.code, 0, audit.err);
  assert.match(audit.out, /audit chains verified/);
});
