// The query of the page being answered, without `lang` (the language middleware has taken it off),
// for the language switcher's links (ui/components/layout.tsx). The middleware runs the rest of the
// request inside withPageQuery, so every page rendered for it (flow and account pages, error pages,
// the console's sign-in messages) keeps its query without each route handing it down.
import { AsyncLocalStorage } from 'node:async_hooks';

const pageQuery = new AsyncLocalStorage<string>();

export function withPageQuery<T>(query: string, run: () => T): T {
  return pageQuery.run(query, run);
}

/** The query of the request being answered; '' outside a request. */
export function currentPageQuery(): string {
  return pageQuery.getStore() ?? '';
}
