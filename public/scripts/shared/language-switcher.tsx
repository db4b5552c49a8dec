// The language switcher of the browser apps: plain links to this same address with ?lang=xx (the
// language middleware takes it, remembers it in the facet_lang cookie and answers the shell in that
// language), the markup and class of the pages' switcher (ui/components/layout.tsx).
import { languageLinks, t } from './language.ts';

export function LanguageSwitcher() {
  return (
    <nav class="languages" aria-label={t.common.language}>
      <ul>
        {languageLinks().map(({ code, name, current }) => (
          <li key={code}>
            {current ? (
              <span lang={code} aria-current="true">
                {name}
              </span>
            ) : (
              <a href={`?lang=${code}`} lang={code} hreflang={code}>
                {name}
              </a>
            )}
          </li>
        ))}
      </ul>
    </nav>
  );
}
