// One factor vocabulary: every place that names a factor uses FACTOR_NAMES and nothing else.
// Static part: the source's factor literals (lockout calls, metric labels, audit event names,
// session factors); runtime part: the lockout rules, the amr mapping and the admin API's enum.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { FACTOR_NAMES } from '../../src/factors/names.ts';
import { DEFAULT_RULES } from '../../src/lockout/index.ts';
import { amrForFactor } from '../../src/stepup/index.ts';

const SRC = path.resolve(import.meta.dirname, '../../src');
const names: readonly string[] = FACTOR_NAMES;

async function sources(dir: string): Promise<Array<{ file: string; text: string }>> {
  const out: Array<{ file: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(full)));
    else if (entry.name.endsWith('.ts')) out.push({ file: path.relative(SRC, full), text: await readFile(full, 'utf8') });
  }
  return out;
}

test('factor literals in src/ are all names of the vocabulary', async () => {
  const patterns = [
    /\bfactor: '([a-z_+]+)'/g, // session factors, metric labels, lockout inputs
    /\b(?:checkLock|recordSuccess)\([^)]*?'([a-z_+]+)'/g, // lockout keys
    /'factor\.([a-z_]+)\./g, // audit event names: factor.<name>.<event>
  ];
  const found: string[] = [];
  for (const { file, text } of await sources(SRC)) {
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        found.push(match[1]!);
        assert.ok(names.includes(match[1]!), `${file}: '${match[1]}' is not a factor name (${names.join(', ')})`);
      }
    }
  }
  assert.ok(found.length >= 10, 'the scan finds the factor literals it is meant to check');
  // The old spellings are gone everywhere.
  for (const { file, text } of await sources(SRC)) {
    assert.doesNotMatch(text, /factor: '(totp|recovery)'|'factor\.totp\./, file);
  }
});

test('lockout rules, amr mapping: keyed by the vocabulary', () => {
  for (const key of Object.keys(DEFAULT_RULES)) assert.ok(names.includes(key) || key === 'face+pad' || key === 'default', `lockout rule ${key}`);
  for (const name of FACTOR_NAMES) {
    assert.ok(DEFAULT_RULES[name], `a lockout rule for ${name}`);
    assert.ok(amrForFactor(name).length > 0, `an amr for ${name}`);
  }
  // Only the app proves "otp".
  assert.deepEqual(FACTOR_NAMES.filter((name) => amrForFactor(name).includes('otp')), ['otp']);
});
