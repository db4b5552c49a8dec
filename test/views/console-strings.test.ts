// Issue 18, languages in the consoles: every language of the console catalogue
// (views/strings/console) has exactly the English keys with the same ICU arguments, every message
// formats, German is a translation; the console speaks each language the pages speak; the shell
// the server sends carries the negotiated language in <html lang>.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { after, before, describe, test } from 'node:test';
import { argumentNames, fill } from '../../views/strings/format.ts';
import { LANGUAGES } from '../../views/strings/index.ts';
import { CONSOLE_LANGUAGES, consoleStringsOf } from '../../views/strings/console/index.ts';
import { en } from '../../views/strings/console/en.ts';
import { appShellPage } from '../../ui/components/layout.tsx';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { leaves, type Tree } from '../support/catalogue.ts';
import { translateSchemaMessage } from '../../views/strings/console/schema-messages.ts';
import { createClientBody } from '../../src/admin/client-settings.ts';
import { brandColorProblem, contrastRatio } from '../../src/tenancy/brand-color.ts';


/** What is wrong with catalogue `strings` against the English one: missing and extra keys, empty texts, other arguments. */
function differences(code: string, strings: Tree): string[] {
  const reference = leaves(en as unknown as Tree);
  const own = leaves(strings);
  const found: string[] = [];
  for (const key of reference.keys()) if (!own.has(key)) found.push(`missing ${key}`);
  for (const key of own.keys()) if (!reference.has(key)) found.push(`extra ${key}`);
  for (const [key, text] of own) {
    if (!reference.has(key)) continue;
    if (text.trim().length === 0) found.push(`empty ${key}`);
    const mine = argumentNames(text, code).join(',');
    const english = argumentNames(reference.get(key)!).join(',');
    if (mine !== english) found.push(`arguments of ${key}: ${mine} instead of ${english}`);
  }
  return found;
}

describe('the console catalogue', () => {
  test('the console speaks every language the pages speak, and no other', () => {
    assert.deepEqual(Object.keys(CONSOLE_LANGUAGES).sort(), Object.keys(LANGUAGES).sort());
  });

  for (const [code, strings] of Object.entries(CONSOLE_LANGUAGES)) {
    test(`${code}: every English key, no extra key, same ICU arguments, nothing empty, every message formats`, () => {
      assert.deepEqual(differences(code, strings as unknown as Tree), []);
      assert.equal(strings.lang, code);
      for (const [key, text] of leaves(strings as unknown as Tree)) {
        const names = argumentNames(text, code);
        const values = Object.fromEntries(names.map((name) => [name, 1]));
        assert.doesNotThrow(() => fill(text, values, code), `${code}.${key} formats`);
        // ICU syntax only on purpose: a message without plural/select comes out as its own text
        // (no apostrophe or '#' swallowed by the formatter).
        if (!/\{\w+, (plural|select)/.test(text)) {
          const marked = Object.fromEntries(names.map((name) => [name, `<${name}>`]));
          assert.equal(fill(text, marked, code), text.replace(/\{(\w+)\}/g, (_m, name: string) => `<${name}>`), `${code}.${key} formats literally`);
        }
      }
    });
  }

  test('the check finds a missing key, an extra key and a changed argument (it can fail)', () => {
    const broken = structuredClone(CONSOLE_LANGUAGES.de) as unknown as Tree;
    delete (broken.users as Tree).heading;
    (broken.audit as Tree).surplus = 'Überzählig';
    (broken.admins as Tree).granted = '{user} hat jetzt die Rolle {role}.';
    assert.deepEqual(differences('de', broken).sort(), ['arguments of admins.granted: role,user instead of role,username', 'extra audit.surplus', 'missing users.heading']);
  });

  test('plurals and selects in both languages', () => {
    const de = CONSOLE_LANGUAGES.de;
    assert.equal(fill(en.users.onPage, { count: 1 }, 'en'), '1 user on this page.');
    assert.equal(fill(en.users.onPage, { count: 3 }, 'en'), '3 users on this page.');
    assert.equal(fill(en.audit.onPage, { count: 1 }, 'en'), '1 event on this page, newest first.');
    assert.equal(fill(de.audit.onPage, { count: 2 }, 'de'), '2 Ereignisse auf dieser Seite, neueste zuerst.');
    assert.equal(fill(de.audit.onPage, { count: 1 }, 'de'), '1 Ereignis auf dieser Seite, neueste zuerst.');
    assert.equal(fill(en.common.correctFields, { count: 1 }, 'en'), 'Please correct the field marked below.');
    assert.equal(fill(en.common.correctFields, { count: 2 }, 'en'), 'Please correct the fields marked below.');
    assert.equal(fill(en.user.signedOut, { sessions: 2, families: 1 }, 'en'), 'Signed out: 2 session(s), 1 refresh-token family ended.');
    assert.equal(fill(de.user.signedOut, { sessions: 2, families: 3 }, 'de'), 'Abgemeldet: 2 Sitzung(en), 3 Refresh-Token-Familien beendet.');
    assert.equal(fill(en.users.sortBy, { column: 'Username', state: 'asc' }, 'en'), 'Sort by Username, ascending');
    assert.equal(fill(en.users.sortBy, { column: 'Created', state: 'none' }, 'en'), 'Sort by Created');
    assert.equal(fill(de.overview.factorOutcome, { factor: 'Passkey', outcome: 'failure' }, 'de'), 'Passkey, fehlgeschlagen');
    assert.equal(fill(en.operator.applied, { created: 'yes', slug: 'acme', added: 1, updated: 0, removed: 0 }, 'en'), 'Created acme: clients added 1, updated 0, removed 0.');
  });

  test('German is a translation, not a copy', () => {
    const reference = leaves(en as unknown as Tree);
    const same = [...leaves(CONSOLE_LANGUAGES.de as unknown as Tree)].filter(([key, text]) => text === reference.get(key) && text.length > 12).map(([key]) => key);
    assert.deepEqual(same, []);
  });

  test('an unknown language code gets English', () => {
    assert.equal(consoleStringsOf('de').shell.overview, 'Übersicht');
    assert.equal(consoleStringsOf('xx').shell.overview, 'Overview');
    assert.equal(consoleStringsOf(undefined).shell.overview, 'Overview');
  });
});

describe('the consoles\' HTML shell', () => {
  const shell = (lang?: string) => appShellPage({ title: 'T', stylesheets: [], mount: { id: 'console' }, noscript: 'N', script: '/assets/build/console.js', nonce: 'n0nce', ...(lang ? { lang } : {}) });
  test('carries the negotiated language in <html lang>, where the app reads it', () => {
    assert.match(shell('de'), /<html lang="de">/);
    assert.match(shell(), /<html lang="en">/);
  });
  test('still loads the app as a module under the nonce, no inline script', () => {
    const page = shell('de');
    assert.match(page, /<script type="module" src="\/assets\/build\/console.js" nonce="n0nce"><\/script>/);
    assert.equal([...page.matchAll(/<script(?![^>]* src=)/g)].length, 0);
  });
});

describe('the console\'s own server pages follow the language choice', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet();
  });
  after(async () => facet?.close());
  const callback = (headers: Record<string, string>, query = '') => fetch(`${facet.baseUrl}/t/demo/console/callback${query}`, { headers: { accept: 'text/html', ...headers }, redirect: 'manual' });

  test('a sign-in that expired, in German for a German browser, with the pages\' switcher', async () => {
    const response = await callback({ 'accept-language': 'de-DE,de;q=0.9' }, '?state=x&code=y');
    const page = await response.text();
    assert.equal(response.status, 400);
    assert.match(page, /<html lang="de">/);
    assert.ok(page.includes(`<h1>${CONSOLE_LANGUAGES.de.signIn.expiredTitle}</h1>`));
    assert.ok(page.includes(CONSOLE_LANGUAGES.de.signIn.signInAgain));
    assert.match(page, /<nav class="languages" aria-label="Sprache">/);
  });

  test('English without a header, and the facet_lang cookie wins over the browser', async () => {
    assert.ok((await (await callback({}, '?state=x')).text()).includes(`<h1>${en.signIn.expiredTitle}</h1>`));
    const chosen = await (await callback({ 'accept-language': 'de', cookie: 'facet_lang=en' }, '?state=x')).text();
    assert.match(chosen, /<html lang="en">/);
    assert.ok(chosen.includes(`<h1>${en.signIn.expiredTitle}</h1>`));
  });
});

describe('the admin API\'s field messages in the console\'s language', () => {
  const schemaSources = ['src/admin/client-settings.ts', 'src/admin/branding-settings.ts', 'src/admin/user-settings.ts', 'src/admin/policy-settings.ts']
    .map((file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'))
    .join('\n');

  test('every English text in schemaMessages is one a schema really gives (a changed schema text fails here)', () => {
    const quoted = (text: string) => [`'${text}'`, `"${text}"`, `'${text.replaceAll("'", "\\'")}'`].some((form) => schemaSources.includes(form));
    assert.deepEqual(Object.entries(en.schemaMessages).filter(([, text]) => !quoted(text)).map(([key]) => key), []);
  });

  test('what the schemas answer comes out in German, numbers in German notation; unknown text passes unchanged', () => {
    const de = CONSOLE_LANGUAGES.de;
    const issues = (schema: Parameters<typeof z.safeParse>[0], body: unknown) => {
      const result = z.safeParse(schema, body);
      return result.success ? [] : result.error.issues.map((issue) => issue.message);
    };
    const client = issues(createClientBody, { name: '', grantTypes: ['authorization_code'], redirectUris: [] });
    assert.ok(client.includes(en.schemaMessages.applicationName) && client.includes(en.schemaMessages.redirectNeeded), client.join(' | '));
    assert.deepEqual(client.filter((text) => text.startsWith('give') || text.startsWith('authorization_code')).map((text) => translateSchemaMessage(text, de, 'de-DE')), [de.schemaMessages.applicationName, de.schemaMessages.redirectNeeded]);
    assert.equal(translateSchemaMessage(brandColorProblem('#ffd700')!, de, 'de-DE'), fill(de.branding.lowContrast, { color: '#ffd700', ratio: new Intl.NumberFormat('de-DE', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(contrastRatio('#ffd700', '#ffffff')), min: '4,5' }, 'de'));
    assert.match(translateSchemaMessage(brandColorProblem('#ffd700')!, de, 'de-DE'), /^#ffd700 hat einen Kontrast von 1,\d\d:1 zu Weiß/);
    assert.equal(translateSchemaMessage(brandColorProblem('red')!, de), fill(de.branding.notAColor, { color: 'red' }, 'de'));
    assert.equal(translateSchemaMessage('some other message', de), 'some other message');
    assert.equal(translateSchemaMessage(en.schemaMessages.applicationName, en), en.schemaMessages.applicationName);
  });
});
