// SIGTERM drains: the server stops accepting, finishes what is in flight, closes pools, exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, projectRoot } from '../support/facet.ts';

test('npm start answers, then exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/main.ts')], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', FACET_DATA_DIR: 'memory://', PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Facet is running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(output, /Demo discovery:\s+http:\/\/localhost:\d+\/t\/demo\/\.well-known\/openid-configuration/);
  const discovery = await fetch(`http://localhost:${port}/t/demo/.well-known/openid-configuration`);
  assert.equal(discovery.status, 200);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
});
