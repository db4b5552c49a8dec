// Picks the strings for a language (English is the only one so far) and fills {placeholders}.
import { en, type Strings } from './en.ts';

const LANGUAGES: Record<string, Strings> = { en };

export function stringsFor(acceptLanguage?: string | null): Strings {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const lang = part.split(';')[0]!.trim().slice(0, 2).toLowerCase();
    if (LANGUAGES[lang]) return LANGUAGES[lang]!;
  }
  return en;
}

export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (match, key: string) => (key in values ? String(values[key]) : match));
}

export type { Strings };
