// The language switcher's link to this same page in another language, for the pages' switcher
// (ui/components/layout.tsx, on the server) and the browser apps' (public/scripts/shared/
// language-switcher.tsx): `lang` is set and every other query parameter kept (a user search,
// ?next=, ?test_steps=), so changing the language loses nothing of the page. The language
// middleware takes `lang` off again before routing (src/http/middleware/language.ts).
export function languageHref(query: string, code: string): string {
  const params = new URLSearchParams(query);
  params.delete('lang');
  params.append('lang', code);
  return `?${params}`;
}
