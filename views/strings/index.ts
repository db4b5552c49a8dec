// The message catalogue (ICU MessageFormat, see fill): one typed object per language (en.ts is the reference; every other
// language is declared `: Strings`, so a missing key fails the typecheck). stringsFor() negotiates
// the Accept-Language header (q-values honoured, region subtags matched on their language), and
// English answers when nothing matches. The language switcher's explicit choice arrives here as
// the first entry of that header (src/http/middleware/language.ts).
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

/**
 * The arguments of a "wait" message (stepUp.tooMany) for a Retry-After in seconds: whole minutes
 * from two minutes on (a five-minute block reads "5 minutes", not "300 seconds"), rounded up so
 * the reader never comes back too early; `minutes` is 0 below that and the seconds are shown.
 */
export function waitArguments(seconds: number): { seconds: number; minutes: number } {
  return { seconds, minutes: seconds >= 120 ? Math.ceil(seconds / 60) : 0 };
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

// fill and argumentNames live in ./format.ts (the browser bundles import them without the catalogues).
export { argumentNames, fill } from './format.ts';

export type { Strings };
