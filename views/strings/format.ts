// ICU MessageFormat for every catalogue (the pages' views/strings/*.ts and the consoles'
// views/strings/console/*.ts): intl-messageformat compiles and formats; this module imports nothing
// of ours, so the browser bundles (the console, the operator console) take it without the pages'
// catalogues.
import { IntlMessageFormat } from 'intl-messageformat';

/**
 * Formats a catalogue message with ICU MessageFormat (intl-messageformat): `{name}` arguments,
 * `{count, plural, one {…} other {…}}` and `{kind, select, …}`. An argument not given stays as
 * `{name}` in the text (lockNotice splits on `{time}` to put a <time> element there). `lang`
 * picks the plural rules; English and German share theirs, so callers that do not pass it are
 * right for both.
 */
export function fill(template: string, values: Record<string, string | number>, lang: string = 'en'): string {
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
export function argumentNames(message: string | IntlMessageFormat, lang: string = 'en'): string[] {
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
