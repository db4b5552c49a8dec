// The message catalogue (ICU MessageFormat, see fill): one typed object per language (en.ts is the reference; every other
// language is declared `: Strings`, so a missing key fails the typecheck). stringsFor() negotiates
// the Accept-Language header (q-values honoured, region subtags matched on their language), and
// English answers when nothing matches. The language switcher's explicit choice arrives here as
// the first entry of that header (src/http/middleware/language.ts).
import { IntlMessageFormat } from 'intl-messageformat';
import { de } from './de.ts';
import { en, type Strings } from './en.ts';

/** Every language the pages speak, with its name in that language (the switcher shows these). */
export const LANGUAGES = {
  en: { name: 'English', strings: en },
  de: { name: 'Deutsch', strings: de },
} as const satisfies Record<string, { name: string; strings: Strings }>;

export type Language = keyof typeof LANGUAGES;
export const DEFAULT_LANGUAGE: Language = 'en';

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(LANGUAGES, value);
}

/** The best language for an Accept-Language header, or English. */
export function negotiateLanguage(acceptLanguage?: string | null): Language {
  const ranges = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [range = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: range.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((r) => r.tag && Number.isFinite(r.q) && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    const primary = tag.split('-')[0];
    if (isLanguage(primary)) return primary;
  }
  return DEFAULT_LANGUAGE;
}

export function stringsFor(acceptLanguage?: string | null): Strings {
  return LANGUAGES[negotiateLanguage(acceptLanguage)].strings;
}

/** The catalogue for a language code a page already knows (layout: its lang attribute). */
export function stringsOf(lang: string | undefined): Strings {
  return isLanguage(lang) ? LANGUAGES[lang].strings : en;
}

/**
 * Formats a catalogue message with ICU MessageFormat (intl-messageformat): `{name}` arguments,
 * `{count, plural, one {…} other {…}}` and `{kind, select, …}`. An argument not given stays as
 * `{name}` in the text (lockNotice splits on `{time}` to put a <time> element there). `lang`
 * picks the plural rules; English and German share theirs, so callers that do not pass it are
 * right for both.
 */
export function fill(template: string, values: Record<string, string | number>, lang: string = DEFAULT_LANGUAGE): string {
  const message = compile(template, lang);
  const all: Record<string, string | number> = {};
  for (const name of argumentNames(message)) all[name] = name in values ? values[name]! : `{${name}}`;
  return String(message.format(all));
}

const compiled = new Map<string, IntlMessageFormat>();

function compile(template: string, lang: string): IntlMessageFormat {
  const key = `${lang}\u0000${template}`;
  let message = compiled.get(key);
  if (!message) {
    // Messages come from the catalogue, so this stays small; the bound is a guard only.
    if (compiled.size >= 2000) compiled.clear();
    message = new IntlMessageFormat(template, lang, undefined, { ignoreTag: true });
    compiled.set(key, message);
  }
  return message;
}

type AstElement = { type: number; value?: unknown; options?: Record<string, { value: AstElement[] }> };
// intl-messageformat's element types: 1 argument, 2 number, 3 date, 4 time, 5 select, 6 plural.
const ARGUMENT_TYPES = new Set([1, 2, 3, 4, 5, 6]);

/** The argument names a message uses, nested plural and select branches included. */
export function argumentNames(message: string | IntlMessageFormat, lang: string = DEFAULT_LANGUAGE): string[] {
  const names = new Set<string>();
  const walk = (elements: AstElement[]) => {
    for (const element of elements) {
      if (ARGUMENT_TYPES.has(element.type) && typeof element.value === 'string') names.add(element.value);
      for (const option of Object.values(element.options ?? {})) walk(option.value);
    }
  };
  walk((typeof message === 'string' ? compile(message, lang) : message).getAst() as AstElement[]);
  return [...names].sort();
}

export type { Strings };
