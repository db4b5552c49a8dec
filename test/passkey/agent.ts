// Drives the account page's sign-up and sign-in steps over plain HTTP with a software
// authenticator: what a browser would do, minus the browser, so protocol tests can tamper.
import { CookieJar } from '../support/http-agent.ts';
import type { SoftAuthenticator, SoftCredential } from './soft-authenticator.ts';

export interface JsonResult {
  status: number;
  data: any;
}

export class PasskeyAgent {
  jar = new CookieJar();
  csrf = '';
  readonly baseUrl: string;
  readonly slug: string;
  authenticator: SoftAuthenticator;
  origin: string;

  constructor(baseUrl: string, slug: string, authenticator: SoftAuthenticator) {
    this.baseUrl = baseUrl;
    this.slug = slug;
    this.authenticator = authenticator;
    this.origin = baseUrl;
  }

  get flowBase(): string {
    return `/t/${this.slug}/account/sign-in`;
  }

  async request(path: string, init: RequestInit & { form?: Record<string, string>; json?: unknown } = {}): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = { cookie: this.jar.header(url), accept: init.json !== undefined ? 'application/json' : 'text/html' };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.jar.store(response);
    return response;
  }

  async page(path: string): Promise<{ status: number; text: string; response: Response }> {
    const response = await this.request(path);
    const text = await response.text();
    const token = /name="csrf" value="([^"]+)"/.exec(text) ?? /data-csrf="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1]!;
    return { status: response.status, text, response };
  }

  async json(path: string, payload: Record<string, unknown>): Promise<JsonResult> {
    const response = await this.request(path, { json: payload });
    const text = await response.text();
    let data: any = text;
    try {
      data = JSON.parse(text);
    } catch {
      /* an HTML error page */
    }
    return { status: response.status, data };
  }

  /** Opens the sign-in page (flow cookie + CSRF token). */
  async open(): Promise<void> {
    await this.page(this.flowBase);
  }

  async signUp({ username, email, displayName = '', invite = '' }: { username: string; email: string; displayName?: string; invite?: string }) {
    await this.page(`${this.flowBase}/signup${invite ? `?invite=${encodeURIComponent(invite)}` : ''}`);
    const submitted = await this.request(`${this.flowBase}/signup`, { form: { csrf: this.csrf, username, email, displayName, invite } });
    if (submitted.status !== 303) return { ok: false as const, status: submitted.status, text: await submitted.text() };
    const options = await this.json(`${this.flowBase}/register/options`, { csrf: this.csrf });
    const response = this.authenticator.create(options.data, { origin: this.origin });
    const verified = await this.json(`${this.flowBase}/register/verify`, { csrf: this.csrf, response });
    if (verified.status !== 200) return { ok: false as const, status: verified.status, text: JSON.stringify(verified.data) };
    const codesPage = await this.page(verified.data.redirect);
    const codes = [...codesPage.text.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
    const done = await this.request(`${this.flowBase}/continue`, { form: { csrf: this.csrf } });
    return { ok: true as const, codes, credential: this.authenticator.credentials.at(-1)!, location: done.headers.get('location') };
  }

  /**
   * Follows redirects from `start` until a Facet page answers (its CSRF token kept) or another
   * origin (the RP's callback) is reached; returns where it stopped.
   */
  async follow(start: string, maxHops = 12): Promise<URL> {
    let url = new URL(start, this.baseUrl);
    for (let hop = 0; hop < maxHops; hop += 1) {
      if (url.origin !== new URL(this.baseUrl).origin) return url;
      const response = await this.request(url.pathname + url.search);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        url = new URL(location, url);
        continue;
      }
      await response.body?.cancel();
      await this.page(url.pathname + url.search);
      return url;
    }
    throw new Error('too many redirects');
  }

  /** Signs in with a recovery code, then creates the new passkey the flow asks for. */
  async recover({ username, code }: { username: string; code: string }) {
    await this.page(`${this.flowBase}/recovery`);
    const submitted = await this.request(`${this.flowBase}/recovery`, { form: { csrf: this.csrf, username, code } });
    if (submitted.status !== 303) return { ok: false as const, status: submitted.status, text: await submitted.text() };
    await this.page(`${this.flowBase}/create-passkey`);
    const options = await this.json(`${this.flowBase}/register/options`, { csrf: this.csrf });
    const verified = await this.json(`${this.flowBase}/register/verify`, { csrf: this.csrf, response: this.authenticator.create(options.data, { origin: this.origin }) });
    if (verified.status !== 200) return { ok: false as const, status: verified.status, text: JSON.stringify(verified.data) };
    return { ok: true as const, redirect: verified.data.redirect as string };
  }

  /** One sign-in attempt; `tamper` may change the assertion before it is sent. */
  async signIn({
    username,
    credential,
    counter,
    origin = this.origin,
    tamper,
  }: { username?: string; credential?: SoftCredential; counter?: number; origin?: string; tamper?: (response: any) => any } = {}) {
    await this.open();
    const options = await this.json(`${this.flowBase}/passkey/options`, { csrf: this.csrf, ...(username ? { username } : {}) });
    let response = this.authenticator.get(options.data, { origin, ...(credential ? { credential } : {}), ...(counter !== undefined ? { counter } : {}) });
    if (tamper) response = tamper(response);
    const result = await this.json(`${this.flowBase}/passkey/verify`, { csrf: this.csrf, response });
    return { ...result, response, options: options.data };
  }
}
