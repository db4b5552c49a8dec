// The admin API's field messages in the console's language. The API's body schemas
// (src/admin/*-settings.ts) are shared by the server and the console and speak English; the console
// shows their messages (from its own check before sending, or from the server's answer) through
// this: a known text becomes the catalogue's text in the page's language, the brand colour rule's
// two messages (src/tenancy/brand-color.ts) are said again with their values, and anything else
// (zod's own messages are already localised by z.config) is shown as it came.
import { fill } from '../format.ts';
import { en, type ConsoleStrings } from './en.ts';

const CONTRAST = /^(#[0-9a-fA-F]{6}) has a contrast of ([\d.]+):1 against white; buttons and links need at least ([\d.]+):1 \(choose a darker shade\)$/;
const NOT_A_COLOUR = /^(.*) is not a colour like #1f5f3a$/;

/** `text` in the language of `strings`; `locale` formats the numbers put back in (the page's Intl locale). */
export function translateSchemaMessage(text: string, strings: ConsoleStrings, locale: string = strings.lang): string {
  if (strings === en) return text;
  for (const [key, english] of Object.entries(en.schemaMessages)) {
    if (english === text) return strings.schemaMessages[key as keyof ConsoleStrings['schemaMessages']];
  }
  const contrast = CONTRAST.exec(text);
  const number = (value: string, digits?: number) => new Intl.NumberFormat(locale, digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(value));
  if (contrast) return fill(strings.branding.lowContrast, { color: contrast[1]!, ratio: number(contrast[2]!, 2), min: number(contrast[3]!) }, strings.lang);
  const colour = NOT_A_COLOUR.exec(text);
  if (colour) return fill(strings.branding.notAColor, { color: colour[1]! }, strings.lang);
  return text;
}
