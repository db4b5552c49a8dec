// Regenerates src/factors/passkey/aaguid-names.json, the passkey-provider names shown on the
// account page, from the community-maintained list at
// github.com/passkeydeveloper/passkey-authenticator-aaguids (aaguid.json; names only, the icons
// are left out). Usage: node scripts/aaguid-names.ts <path to aaguid.json> [commit]
// The upstream list may be retired as an empty object: then this refuses to overwrite ours.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [input, commit = 'unknown'] = process.argv.slice(2);
if (!input) {
  console.error('usage: node scripts/aaguid-names.ts <aaguid.json> [commit]');
  process.exit(2);
}
const upstream = JSON.parse(readFileSync(input, 'utf8')) as Record<string, { name?: unknown }>;
const names: Record<string, string> = {};
for (const [aaguid, entry] of Object.entries(upstream).sort(([a], [b]) => a.localeCompare(b))) {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(aaguid) && typeof entry.name === 'string' && entry.name.trim()) names[aaguid] = entry.name.trim();
}
if (Object.keys(names).length === 0) {
  console.error('aaguid-names: the list is empty (retired upstream?); keeping the bundled one');
  process.exit(1);
}
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/factors/passkey/aaguid-names.json');
const source = { url: 'https://github.com/passkeydeveloper/passkey-authenticator-aaguids/blob/main/aaguid.json', commit, generated: new Date().toISOString().slice(0, 10) };
writeFileSync(out, `${JSON.stringify({ source, names }, null, 2)}\n`);
console.log(`aaguid-names: ${Object.keys(names).length} providers written to ${path.relative(process.cwd(), out)}`);
