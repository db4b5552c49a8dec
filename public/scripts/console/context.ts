// What every console page shares: the mount point's data (base path, tenant, CSRF token), the admin
// API client made from it, and client-side navigation.
import { createApi } from './api.ts';

export const root = document.getElementById('console')!;
/** The console's base path, /t/<slug>/console. */
export const base = root.dataset.base!;
export const api = createApi(base, root.dataset.csrf!);
export const tenantName = root.dataset.tenant ?? '';
export const tenantSlug = root.dataset.slug ?? '';
export const accountPage = root.dataset.account ?? '';

// The page's language, its catalogue and Intl formatting (public/scripts/shared/language.ts).
export { format, lang, number, t, timeOf, when } from '../shared/language.ts';

export function navigate(to: string) {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}
