// Issue 18, languages: every language has every key of the English catalogue (nested maps too)
// with the same ICU arguments, and every message formats; Accept-Language picks the language (q-values honoured); the
// switcher's ?lang= link changes the page and is remembered in a cookie, under the same CSP, and keeps
// the page's other query parameters.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { argumentNames, fill, LANGUAGES, negotiateLanguage, stringsFor, waitArguments } from '../../views/strings/index.ts';
import { en } from '../../views/strings/en.ts';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { leaves, type Tree } from '../support/catalogue.ts';
import { CookieJar } from '../support/http-agent.ts';



describe('the message catalogue', () => {
  const reference = leaves(en as unknown as Tree);
  for (const [code, { strings }] of Object.entries(LANGUAGES)) {
    test(`${code}: every English key exists, no extra key, same placeholders, nothing left empty`, () => {
      const own = leaves(strings as unknown as Tree);
      const missing = [...reference.keys()].filter((key) => !own.has(key));
      const extra = [...own.keys()].filter((key) => !reference.has(key));
      assert.deepEqual(missing, [], `${code} lacks these keys`);
      assert.deepEqual(extra, [], `${code} has keys English does not`);
      for (const [key, text] of own) {
        assert.ok(text.trim().length > 0, `${code}.${key} is empty`);
        assert.deepEqual(argumentNames(text, code), argumentNames(reference.get(key)!), `${code}.${key} arguments`);
        // ICU syntax is only used on purpose: a message without plural/select formats exactly as
        // its text with the arguments put in (no apostrophe or '#' swallowed by the formatter).
        if (!/\{\w+, (plural|select)/.test(text)) {
          const values = Object.fromEntries(argumentNames(text, code).map((name) => [name, `<${name}>`]));
          assert.equal(fill(text, values, code), text.replace(/\{(\w+)\}/g, (_m, name: string) => `<${name}>`), `${code}.${key} formats literally`);
        }
      }
      assert.equal(strings.lang, code);
    });
  }
  test('the check fails on a missing nested key (it is not vacuous)', () => {
    const broken = structuredClone(LANGUAGES.de.strings) as unknown as Tree;
    delete (broken.stepUp as Tree).factorNames!['face' as never];
    assert.ok(!leaves(broken).has('stepUp.factorNames.face'));
    assert.ok(reference.has('stepUp.factorNames.face'));
  });
  test('plurals (ICU) in both languages; an argument not given stays as {name}', () => {
    assert.equal(fill(en.account.recoveryRemaining, { count: 1 }, 'en'), '1 unused recovery code remains.');
    assert.equal(fill(en.account.recoveryRemaining, { count: 10 }, 'en'), '10 unused recovery codes remain.');
    assert.match(fill(en.account.recoveryRemaining, { count: 0 }, 'en'), /^No unused recovery codes remain/);
    assert.equal(fill(LANGUAGES.de.strings.account.recoveryRemaining, { count: 1 }, 'de'), 'Noch 1 unbenutzter Wiederherstellungscode.');
    assert.equal(fill(LANGUAGES.de.strings.account.recoveryRemaining, { count: 7 }, 'de'), 'Noch 7 unbenutzte Wiederherstellungscodes.');
    assert.equal(fill(en.stepUp.tooMany, waitArguments(1)), 'Too many attempts. Wait 1 second and try again.');
    assert.equal(fill(LANGUAGES.de.strings.stepUp.tooMany, waitArguments(30), 'de'), 'Zu viele Versuche. Warten Sie 30 Sekunden und versuchen Sie es erneut.');
    // From two minutes on the wait is told in whole minutes, rounded up.
    assert.equal(fill(en.stepUp.tooMany, waitArguments(119)), 'Too many attempts. Wait 119 seconds and try again.');
    assert.equal(fill(en.stepUp.tooMany, waitArguments(120)), 'Too many attempts. Wait 2 minutes and try again.');
    assert.equal(fill(en.stepUp.tooMany, waitArguments(299)), 'Too many attempts. Wait 5 minutes and try again.');
    assert.equal(fill(LANGUAGES.de.strings.stepUp.tooMany, waitArguments(300), 'de'), 'Zu viele Versuche. Warten Sie 5 Minuten und versuchen Sie es erneut.');
    assert.equal(fill(en.stepUp.locked, { minutes: 5 }), 'Too many wrong attempts. You can try again in 5 min, after {time}.');
  });
  test('German is a translation, not a copy', () => {
    const de = leaves(LANGUAGES.de.strings as unknown as Tree);
    const same = [...de].filter(([key, text]) => text === reference.get(key) && text.length > 12).map(([key]) => key);
    assert.deepEqual(same, []);
  });
});

describe('Accept-Language negotiation', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'en'],
    ['', 'en'],
    ['de', 'de'],
    ['de-AT,de;q=0.9', 'de'],
    ['fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7', 'de'],
    ['en;q=0.5,de;q=0.9', 'de'],
    ['de;q=0,en', 'en'],
    ['tr, ja', 'en'],
    ['*', 'en'],
    ['DE-de', 'de'],
  ];
  for (const [header, expected] of cases) test(`${JSON.stringify(header)} → ${expected}`, () => assert.equal(negotiateLanguage(header), expected));
  test('stringsFor answers the catalogue', () => assert.equal(stringsFor('de-CH').signIn.title, 'Anmelden'));
});

describe('language on the pages', () => {
  let facet: TestFacet;
  before(async () => {
    facet = await startTestFacet();
  });
  after(async () => facet?.close());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, facet.baseUrl), { headers: { accept: 'text/html', ...headers }, redirect: 'manual' });

  test('Accept-Language picks German; the switcher links to English', async () => {
    const response = await get('/t/demo/account/sign-in', { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' });
    const page = await response.text();
    assert.equal(response.status, 200);
    assert.match(page, /<html lang="de">/);
    assert.ok(page.includes(LANGUAGES.de.strings.signIn.passkeyButton), 'German sign-in button');
    assert.ok(!page.includes(en.signIn.passkeyButton));
    assert.match(page, /<nav class="languages" aria-label="Sprache">/);
    assert.match(page, /<a href="\?lang=en" lang="en" hreflang="en">English<\/a>/);
    assert.match(page, /<span lang="de" aria-current="true">Deutsch<\/span>/);
    assert.match(response.headers.get('vary') ?? '', /Accept-Language/i);
  });

  test('no header or an unknown language: English', async () => {
    for (const headers of [{}, { 'accept-language': 'tr-TR' }] as Array<Record<string, string>>) {
      const page = await (await get('/t/demo/account/sign-in', headers)).text();
      assert.match(page, /<html lang="en">/);
      assert.ok(page.includes(en.signIn.passkeyButton));
    }
  });

  test('the switcher: ?lang= wins over Accept-Language, is remembered in a cookie, and the CSP stays', async () => {
    const switched = await get('/t/demo/account/sign-in?lang=de', { 'accept-language': 'en-US' });
    assert.equal(switched.status, 200);
    const page = await switched.text();
    assert.match(page, /<html lang="de">/);
    const cookie = switched.headers.getSetCookie().find((c) => c.startsWith('facet_lang='));
    assert.ok(cookie, 'a facet_lang cookie is set');
    assert.match(cookie, /^facet_lang=de;/);
    assert.match(cookie, /httponly/i);
    assert.match(cookie, /samesite=lax/i);
    const csp = switched.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src[^;]*'nonce-/);
    // The nonce on the page's scripts is the one in the header.
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    for (const [, scriptNonce] of page.matchAll(/<script[^>]* nonce="([^"]*)"/g)) assert.equal(scriptNonce, nonce);

    const remembered = await get('/t/demo/account/sign-in', { 'accept-language': 'en-US', cookie: 'facet_lang=de' });
    assert.match(await remembered.text(), /<html lang="de">/);
    const back = await get('/t/demo/account/sign-in?lang=en', { 'accept-language': 'de', cookie: 'facet_lang=de' });
    assert.match(await back.text(), /<html lang="en">/);
    assert.match(back.headers.getSetCookie().find((c) => c.startsWith('facet_lang='))!, /^facet_lang=en;/);
  });

  test('the switcher keeps the page\'s other query parameters (HTML-escaped) and changes only lang', async () => {
    // Switched by ?lang= amid other parameters: the middleware took lang off, the link puts it back last.
    const switched = await (await get('/t/demo/account/sign-in?next=%2Ft%2Fdemo%2Faccount&lang=de&q=a+%26+b', { 'accept-language': 'en' })).text();
    assert.match(switched, /<html lang="de">/);
    assert.ok(switched.includes('<a href="?next=%2Ft%2Fdemo%2Faccount&amp;q=a+%26+b&amp;lang=en" lang="en" hreflang="en">English</a>'), 'the English link keeps next and q');
    assert.match(switched, /<span lang="de" aria-current="true">Deutsch<\/span>/);
    // Without ?lang= (Accept-Language decides); a value that would break out of the attribute stays encoded.
    const plain = await (await get('/t/demo/account/sign-in?test_steps=front,left&x=%22%3E%3Cb%3E', { 'accept-language': 'de' })).text();
    assert.ok(plain.includes('<a href="?test_steps=front%2Cleft&amp;x=%22%3E%3Cb%3E&amp;lang=en" lang="en" hreflang="en">English</a>'), 'the English link keeps test_steps and x');
    assert.ok(!plain.includes('"><b>'), 'no markup from the query');
    // Error pages (rendered by the error handler) keep it too.
    const error = await (await get('/t/demo/interaction/no-such-interaction?next=%2Fx', { 'accept-language': 'en' })).text();
    assert.ok(error.includes('<a href="?next=%2Fx&amp;lang=de" lang="de" hreflang="de">Deutsch</a>'), 'the error page\'s German link keeps next');
  });

  test('an unknown ?lang= or cookie value is ignored, never an error', async () => {
    const response = await get('/t/demo/account/sign-in?lang=xx', { 'accept-language': 'de', cookie: 'facet_lang=%3Cscript%3E' });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<html lang="de">/);
    assert.equal(response.headers.getSetCookie().some((c) => c.startsWith('facet_lang=')), false);
  });

  test('error pages speak the reader’s language too, with the switcher', async () => {
    const response = await get('/t/demo/interaction/no-such-interaction', { 'accept-language': 'de-DE' });
    const page = await response.text();
    assert.equal(response.status, 400);
    assert.match(page, /<html lang="de">/);
    assert.ok(page.includes(LANGUAGES.de.strings.errors.interactionGone));
    assert.match(page, /<p class="detail">Referenz: [0-9a-f-]{36}<\/p>/);
    assert.match(page, /<nav class="languages" aria-label="Sprache">/);
    const english = await (await get('/t/demo/interaction/no-such-interaction', { 'accept-language': 'en' })).text();
    assert.match(english, /<p class="detail">Reference: [0-9a-f-]{36}<\/p>/);
  });

  test('the landing page at / and the provider\'s signed-out page follow the language as well', async () => {
    const landing = await (await get('/', { 'accept-language': 'de' })).text();
    assert.match(landing, /<html lang="de">/);
    assert.ok(landing.includes(`<h1>${LANGUAGES.de.strings.landing.heading}</h1>`));
    assert.match(landing, /Ihre Kontoseite finden Sie unter <code>http:\/\/localhost:\d+\/t\/&lt;organisation(?:&gt;|>)\/account<\/code>;/);
    assert.match(await (await get('/', {})).text(), /<h1>Facet sign-in service<\/h1>/);
  });

  test('the switcher on a page that answered a form: a path without GET leads to the flow\'s page', async () => {
    for (const [path, page] of [
      ['/t/demo/account/passkeys/some-id/rename?lang=de', '/t/demo/account'],
      ['/t/demo/interaction/some-uid/identify?lang=de', '/t/demo/interaction/some-uid'],
    ]) {
      const response = await get(path!);
      assert.equal(response.status, 303, path);
      assert.equal(response.headers.get('location'), page);
      assert.match(response.headers.getSetCookie().find((c) => c.startsWith('facet_lang='))!, /^facet_lang=de;/);
    }
    // Without a language switch, such a path is the 404 it always was.
    assert.equal((await get('/t/demo/account/passkeys/some-id/rename')).status, 404);
  });

  test('?lang= is removed before routing: discovery and the provider never see it', async () => {
    const response = await fetch(`${facet.baseUrl}/t/demo/.well-known/openid-configuration?lang=de`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as { issuer: string; ui_locales_supported?: string[]; claim_types_supported?: string[] };
    assert.equal(document.issuer, `${facet.baseUrl}/t/demo`);
    // The languages an RP may ask for with ui_locales.
    assert.deepEqual(document.ui_locales_supported, Object.keys(LANGUAGES));
    assert.deepEqual(document.claim_types_supported, ['normal']);
    assert.doesNotMatch(response.headers.get('vary') ?? '', /Cookie/i, 'JSON documents do not vary by the language cookie');
  });

  /** An authorization request from demo-web, followed to the sign-in page it leads to. */
  const signInPageFor = async (extra: Record<string, string>, headers: Record<string, string>) => {
    const jar = new CookieJar();
    let url = new URL(`${facet.baseUrl}/t/demo/auth`);
    for (const [name, value] of Object.entries({ client_id: 'demo-web', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:3001/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeKt8URW_Q9ZGGqKvJ1w', code_challenge_method: 'S256', state: 's', ...extra })) {
      url.searchParams.set(name, value);
    }
    for (let hop = 0; hop < 5; hop += 1) {
      const { cookie = '', ...rest } = headers;
      const cookies = [jar.header(url), cookie].filter(Boolean).join('; ');
      const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html', cookie: cookies, ...rest } });
      jar.store(response);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { url, response, page: await response.text() };
      url = new URL(location, url);
    }
    throw new Error('too many redirects');
  };

  test('ui_locales from the relying party picks the interaction pages\' language; the reader\'s own choice still wins', async () => {
    const german = await signInPageFor({ ui_locales: 'de-CH en' }, { 'accept-language': 'en-US,en;q=0.9' });
    assert.equal(german.response.status, 200);
    assert.match(german.url.pathname, /^\/t\/demo\/interaction\/[^/]+$/);
    assert.match(german.page, /<html lang="de">/);
    assert.ok(german.page.includes(LANGUAGES.de.strings.signIn.passkeyButton), 'German sign-in page');

    // A language Facet lacks falls through to the next ui_locales entry, then to the browser.
    assert.match((await signInPageFor({ ui_locales: 'tr en' }, { 'accept-language': 'de' })).page, /<html lang="en">/);
    assert.match((await signInPageFor({ ui_locales: 'tr' }, { 'accept-language': 'de' })).page, /<html lang="de">/);
    // Without ui_locales the browser decides, as before.
    assert.match((await signInPageFor({}, { 'accept-language': 'de' })).page, /<html lang="de">/);
    // The switcher's cookie is the reader's choice: it beats the RP's hint.
    const chosen = await signInPageFor({ ui_locales: 'de' }, { 'accept-language': 'de', cookie: 'facet_lang=en' });
    assert.equal(chosen.response.status, 200);
    assert.match(chosen.page, /<html lang="en">/);
    assert.ok(chosen.page.includes(en.signIn.passkeyButton), 'English sign-in page');
  });
});
