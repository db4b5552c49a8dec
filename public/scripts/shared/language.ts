// The browser apps' language (the tenant console, the operator console): the server negotiated it
// like every page (Accept-Language after the switcher's ?lang= and the facet_lang cookie) and wrote
// it into <html lang>; the app reads it from there, so no request is needed. Dates and numbers use
// the browser's own locale when it is a variant of that language (en-GB stays en-GB), else the
// language itself.
import { consoleStringsOf, CONSOLE_LANGUAGES } from '../../../views/strings/console/index.ts';
import { fill } from '../../../views/strings/format.ts';

export const lang = Object.hasOwn(CONSOLE_LANGUAGES, document.documentElement.lang) ? document.documentElement.lang : 'en';
/** The catalogue in the page's language. */
export const t = consoleStringsOf(lang);
/** A catalogue message with its ICU arguments, in the page's language. */
export const format = (message: string, values: Record<string, string | number> = {}) => fill(message, values, lang);
export const locale = navigator.languages.find((tag) => tag.split('-')[0]!.toLowerCase() === lang) ?? lang;

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString(locale) : t.common.none);
export const timeOf = (date: Date) => date.toLocaleTimeString(locale);
export const number = (value: number, options?: Intl.NumberFormatOptions) => new Intl.NumberFormat(locale, options).format(value);

/** Links to this same page in each language (the server takes ?lang=, remembers it, and answers the shell in it); the same markup as the pages' switcher. */
export function languageLinks(): Array<{ code: string; name: string; current: boolean }> {
  return Object.entries(CONSOLE_LANGUAGES).map(([code, strings]) => ({ code, name: strings.languageName, current: code === lang }));
}
