// Issue 18: passkeys are named after their provider (the bundled community AAGUID list), and
// sign-ins show a coarse device name parsed from the User-Agent, never the raw string.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { defaultPasskeyName, passkeyDisplayName, passkeyProviderName } from '../../src/factors/passkey/providers.ts';
import { deviceOf } from '../../src/account/device-name.ts';
import { deviceLabel } from '../../ui/pages/account.tsx';
import { en } from '../../views/strings/en.ts';

const GOOGLE = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';

describe('passkey provider names', () => {
  test('the bundled list names its source and holds lowercase AAGUIDs', () => {
    const bundled = JSON.parse(readFileSync(new URL('../../src/factors/passkey/aaguid-names.json', import.meta.url), 'utf8'));
    assert.match(bundled.source.url, /passkeydeveloper\/passkey-authenticator-aaguids/);
    assert.ok(Object.keys(bundled.names).length > 20);
    for (const aaguid of Object.keys(bundled.names)) assert.match(aaguid, /^[0-9a-f-]{36}$/);
  });
  test('known, unknown, upper-case and all-zero AAGUIDs', () => {
    assert.equal(passkeyProviderName(GOOGLE), 'Google Password Manager');
    assert.equal(passkeyProviderName(GOOGLE.toUpperCase()), 'Google Password Manager');
    assert.equal(passkeyProviderName('fbfc3007-154e-4ecc-8c0b-6e020557d7bd'), 'Apple Passwords');
    assert.equal(passkeyProviderName('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(passkeyProviderName(null), undefined);
  });
  test('a new passkey is named after its provider; old dated defaults are shown so; names the user gave stay', () => {
    const at = new Date('2026-11-30T12:00:00Z');
    assert.equal(defaultPasskeyName(GOOGLE, at), 'Google Password Manager');
    assert.equal(defaultPasskeyName(null, at), 'Passkey 2026-11-30');
    assert.equal(passkeyDisplayName('Passkey 2026-11-30', GOOGLE), 'Google Password Manager');
    assert.equal(passkeyDisplayName('Passkey 2026-11-30', null), 'Passkey 2026-11-30');
    assert.equal(passkeyDisplayName('Work laptop', GOOGLE), 'Work laptop');
  });
});

describe('device names from the User-Agent', () => {
  const cases: Array<[string, string]> = [
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1', 'Safari on iPhone (iOS)'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Gecko/20100101 Firefox/132.0', 'Firefox on macOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
  ];
  for (const [ua, label] of cases) test(label, () => assert.equal(deviceLabel(en, deviceOf(ua)), label));
  test('nothing known: "Unknown device", never the raw string', () => {
    assert.equal(deviceLabel(en, deviceOf(null)), 'Unknown device');
    assert.equal(deviceLabel(en, deviceOf('curl/8.5.0')).includes('curl/8.5.0'), false);
  });
});
