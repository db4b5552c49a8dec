// The language switcher of the browser apps: plain links to this same address with ?lang=xx (the
// language middleware takes it, remembers it in the facet_lang cookie and answers the shell in that
// language), the markup and class of the pages' switcher (ui/components/layout.tsx). The address's
// other query parameters (a user search) are kept.
import { useEffect, useState } from 'preact/hooks';
import { languageHref } from '../../../ui/components/language-link.ts';
import { languageLinks, t } from './language.ts';

export function LanguageSwitcher() {
  // The address is read at each render (the apps change it with pushState/replaceState and render);
  // a navigation that changes only the query re-renders the switcher through popstate.
  const [, setQuery] = useState(location.search);
  useEffect(() => {
    const onPop = () => setQuery(location.search);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
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
              <a href={languageHref(location.search, code)} lang={code} hreflang={code}>
                {name}
              </a>
            )}
          </li>
        ))}
      </ul>
    </nav>
  );
}
