// A minimal cookie-keeping HTTP agent for driving redirects without a browser.
export class CookieJar {
  #cookies = new Map<string, { value: string; path: string }>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const [name, ...rest] = pair!.split('=');
      const path = attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || attributes.some((a) => /max-age=0/i.test(a.trim()));
      const key = `${name!.trim()}|${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { value: rest.join('='), path });
    }
  }

  header(url: URL): string {
    return [...this.#cookies.entries()]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([key, c]) => `${key.split('|')[0]}=${c.value}`)
      .join('; ');
  }
}

/** Follows redirects by hand (keeping cookies) until one leaves `origin` or a non-redirect answers. */
export async function followRedirects(start: string | URL, jar: CookieJar, { origin, maxHops = 10 }: { origin: string; maxHops?: number }) {
  let url = new URL(start);
  for (let hop = 0; hop < maxHops; hop += 1) {
    if (url.origin !== origin) return { url, response: undefined };
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url), accept: 'text/html' } });
    jar.store(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    return { url, response };
  }
  throw new Error('too many redirects');
}
