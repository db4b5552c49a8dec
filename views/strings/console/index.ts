// The consoles' catalogues (the tenant console and the operator console), one per language the
// pages speak: CONSOLE_LANGUAGES is keyed by the pages' Language, so a language added to
// views/strings/index.ts fails the typecheck here until its console catalogue exists too. Pure:
// the server (the HTML shell, the sign-in messages) and the browser bundles both import it.
import type { Language } from '../index.ts';
import { de } from './de.ts';
import { en, type ConsoleStrings } from './en.ts';

export const CONSOLE_LANGUAGES = { en, de } as const satisfies Record<Language, ConsoleStrings>;

/** The catalogue for a language code (the shell's <html lang>), or English. */
export function consoleStringsOf(lang: string | undefined): ConsoleStrings {
  return lang !== undefined && Object.hasOwn(CONSOLE_LANGUAGES, lang) ? CONSOLE_LANGUAGES[lang as Language] : en;
}

export type { ConsoleStrings };
