import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { metricNames, validateInfra } from '../../scripts/validate-infra.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('deployment files', () => {
  it('docker-compose.yml, infra/ and the Dockerfile pass validation', () => {
    assert.deepEqual(validateInfra(root), []);
  });

  it('the validator catches an unknown dashboard metric, an unpinned image, a missing service and a scale-out node the proxy does not know', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'facet-infra-'));
    try {
      for (const item of ['docker-compose.yml', 'Dockerfile', 'infra']) cpSync(path.join(root, item), path.join(copy, item), { recursive: true });
      const dashboardPath = path.join(copy, 'infra/grafana/dashboards/facet.json');
      const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8'));
      dashboard.panels.find((p: any) => p.targets).targets[0].expr = 'rate(facet_made_up_total[5m])';
      writeFileSync(dashboardPath, JSON.stringify(dashboard));
      const compose = readFileSync(path.join(copy, 'docker-compose.yml'), 'utf8')
        .replace('redis:7.4-alpine', 'redis:latest')
        .replace(/\n  grafana:\n/, '\n  grafana-renamed:\n')
        .replace('FACET_AUDIT_EXPORT_DIR: /exports', 'FACET_AUDIT_EXPORT_DIR: /tmp/exports');
      writeFileSync(path.join(copy, 'docker-compose.yml'), compose);
      const haproxyPath = path.join(copy, 'infra/haproxy.cfg');
      writeFileSync(haproxyPath, readFileSync(haproxyPath, 'utf8').replace(/^\s*server app-3 .*$/m, ''));
      const problems = validateInfra(copy);
      assert.ok(problems.some((p) => p.includes('no server for app node app-3')), problems.join('\n'));
      assert.ok(problems.some((p) => p.includes('facet_made_up_total')), problems.join('\n'));
      assert.ok(problems.some((p) => p.includes('redis:latest is not pinned')), problems.join('\n'));
      assert.ok(problems.some((p) => p.includes('service grafana is missing')), problems.join('\n'));
      for (const node of ['app', 'worker', 'app-2', 'app-3']) assert.ok(problems.some((p) => p.includes(`${node} must have FACET_AUDIT_EXPORT_DIR on a named volume`)), problems.join('\n'));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('HAProxy accepts infra/haproxy.cfg (haproxy -c, node names unresolvable here)', { skip: spawnSync('haproxy', ['-v']).error ? 'haproxy not installed' : false }, () => {
    const check = spawnSync('haproxy', ['-c', '-f', path.join(root, 'infra/haproxy.cfg')], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    assert.match(check.stdout + check.stderr, /Configuration file is valid/);
  });

  it('maps histogram series to their metric', () => {
    assert.deepEqual(metricNames('histogram_quantile(0.95, sum by (le) (rate(facet_face_match_duration_seconds_bucket[5m])))'), ['facet_face_match_duration_seconds']);
  });
});
