// The event catalogue: an undeclared type does not compile (the @ts-expect-error lines below fail
// `npm run typecheck` the day appendAudit accepts any string again), every type maps to an OCSF
// class and activity, and docs/audit.md lists every type.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { AUDIT_EVENTS, AUDIT_EVENT_TYPES, OCSF_ACTIVITIES, OCSF_CLASSES, describeAuditType } from '../../src/audit/catalogue.ts';
import type { TenantDb } from '../../src/db/tenant-scope.ts';
import { projectRoot } from '../support/facet.ts';

// Never called: these exist for the type checker.
export async function typeChecks(trx: TenantDb) {
  // @ts-expect-error an undeclared type is a compile error
  await appendAudit(trx, { type: 'user.teleported' });
  // @ts-expect-error the old spelling is no longer written
  await appendAudit(trx, { type: 'recovery_codes.issued', data: { count: 1 } });
  // @ts-expect-error a declared field has its declared type
  await appendAudit(trx, { type: 'recovery_code.issued', data: { count: 'ten' } });
  // @ts-expect-error a required field is required
  await appendAudit(trx, { type: 'lockout.unlocked', data: {} });
  await appendAudit(trx, { type: 'lockout.unlocked', data: { factor: 'otp', extra: 'further detail is allowed' } });
}

test('every type maps to a known OCSF class and activity', () => {
  assert.ok(AUDIT_EVENT_TYPES.length >= 45);
  for (const type of AUDIT_EVENT_TYPES) {
    const { ocsf } = AUDIT_EVENTS[type];
    assert.ok(OCSF_CLASSES[ocsf.classUid], `${type}: class ${ocsf.classUid}`);
    assert.ok(OCSF_ACTIVITIES[ocsf.classUid][ocsf.activityId], `${type}: activity ${ocsf.activityId} of ${ocsf.classUid}`);
    assert.match(type, /^[a-z_]+(\.[a-z_]+)+$/);
  }
  assert.equal(describeAuditType('recovery_codes.issued')?.type, 'recovery_code.issued');
  assert.equal(describeAuditType('nope'), undefined);
});

test('docs/audit.md lists every event type with its OCSF class', () => {
  const doc = readFileSync(path.join(projectRoot, 'docs/audit.md'), 'utf8');
  for (const type of AUDIT_EVENT_TYPES) {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${type}\``));
    assert.ok(line, `docs/audit.md has no row for ${type}`);
    assert.ok(line.includes(String(AUDIT_EVENTS[type].ocsf.classUid)), `${type}: the row names class ${AUDIT_EVENTS[type].ocsf.classUid}`);
  }
});
