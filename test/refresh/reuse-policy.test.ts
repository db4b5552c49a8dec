// The family rule as a table: every kind of presentation and what it leads to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRefresh, type FamilyState } from '../../src/oidc/refresh/reuse-policy.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const limits = { graceSeconds: 10, idleSeconds: 3600, absoluteSeconds: 86400 };
const family: FamilyState = {
  clientId: 'rp-a',
  jkt: null,
  currentHash: 'S',
  previousHash: 'P',
  previousSpentAt: at(100),
  generation: 3,
  createdAt: t0,
  lastUsedAt: at(100),
  endedAt: null,
};

const cases: Array<[string, Partial<FamilyState>, { tokenHash: string; clientId?: string; dpopJkt?: string | null; now: Date }, string]> = [
  ['live token, own client', {}, { tokenHash: 'S', now: at(105) }, 'rotate'],
  ['previous token inside the window', {}, { tokenHash: 'P', now: at(110) }, 'grace_rotate'],
  ['previous token after the window', {}, { tokenHash: 'P', now: at(111) }, 'revoke_family:reuse_after_grace'],
  ['older generation', {}, { tokenHash: 'O', now: at(101) }, 'revoke_family:old_generation'],
  ['live token, other client', {}, { tokenHash: 'S', clientId: 'rp-b', now: at(101) }, 'revoke_family:other_client'],
  ['previous token, other client, inside window', {}, { tokenHash: 'P', clientId: 'rp-b', now: at(101) }, 'revoke_family:other_client'],
  ['DPoP-bound family, same key', { jkt: 'K1' }, { tokenHash: 'S', dpopJkt: 'K1', now: at(101) }, 'rotate'],
  ['DPoP-bound family, other key', { jkt: 'K1' }, { tokenHash: 'S', dpopJkt: 'K2', now: at(101) }, 'revoke_family:other_dpop_key'],
  ['DPoP-bound family, no proof', { jkt: 'K1' }, { tokenHash: 'P', dpopJkt: null, now: at(101) }, 'revoke_family:other_dpop_key'],
  ['idle too long', {}, { tokenHash: 'S', now: at(100 + 3601) }, 'reject:idle_timeout'],
  ['past absolute lifetime', { lastUsedAt: at(86000) }, { tokenHash: 'S', now: at(86401) }, 'reject:absolute_lifetime'],
  ['ended family', { endedAt: at(50) }, { tokenHash: 'S', now: at(101) }, 'reject:family_ended'],
  ['in flight: spent, successor not stored yet', { currentHash: null }, { tokenHash: 'P', now: at(100) }, 'grace_rotate'],
  ['zero grace window', {}, { tokenHash: 'P', now: at(100) }, 'grace_rotate'],
];

for (const [name, changes, presented, expected] of cases) {
  test(name, () => {
    const decision = decideRefresh({ ...family, ...changes }, { clientId: 'rp-a', dpopJkt: null, ...presented }, limits);
    assert.equal('reason' in decision ? `${decision.action}:${decision.reason}` : decision.action, expected);
  });
}

test('a zero grace window treats any repeat after the spend instant as theft', () => {
  const decision = decideRefresh(family, { tokenHash: 'P', clientId: 'rp-a', dpopJkt: null, now: at(100.001) }, { ...limits, graceSeconds: 0 });
  assert.deepEqual(decision, { action: 'revoke_family', reason: 'reuse_after_grace' });
});
