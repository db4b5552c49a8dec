// Property-based fuzzing of every HTTP route (issue 17, "No 5xx from bad input"): the routes of
// Facet's router (collected from the same registration functions the app uses), every operation
// of the admin API's OpenAPI document, the provider's OAuth endpoints (authorization, token, PAR,
// introspection, revocation, userinfo, device, end session) and the root routes. Each case is one
// request with generated path parameters, query, body (form, JSON, multipart, raw bytes, base64
// "frames" for face uploads) and credentials: none, garbage, or valid ones — an admin token, client
// secrets, a live interaction's cookies and CSRF token, a signed-in account page session.
// A case fails when the answer is ≥ 500 or takes longer than `slowMs`.
import { createHmac, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import fc from 'fast-check';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { CookieJar, followRedirects } from '../support/http-agent.ts';
import { registerInteractionRoutes } from '../../src/interaction/routes.ts';
import { registerAdminApi } from '../../src/admin/api.ts';
import { registerConsoleRoutes } from '../../src/console/routes.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { openAccountSession } from '../../src/account/sessions.ts';
import { findTenant } from '../../src/tenancy/registry.ts';
import { ACCOUNT_COOKIE } from '../../src/interaction/flow.ts';
import { adminAuthorizer } from '../support/admin-client.ts';

const WEB = `Basic ${Buffer.from('demo-web:demo-web-dev-secret').toString('base64')}`;
const SERVICE = `Basic ${Buffer.from('demo-service:demo-service-dev-secret').toString('base64')}`;
const AUTH_QUERY = 'client_id=demo-web&response_type=code&scope=openid&redirect_uri=http%3A%2F%2Flocalhost%3A3001%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256';

export interface Target {
  method: string;
  /** With `:name` parameters, starting at the origin (e.g. /t/:slug/admin/api/users/:id). */
  path: string;
  source: 'router' | 'openapi' | 'provider' | 'root';
  /** Property names of the JSON body from the OpenAPI document. */
  bodyFields?: string[];
  queryFields?: string[];
}

export interface FuzzResult {
  cases: number;
  /** `METHOD path` → status → count. */
  table: Map<string, Map<number, number>>;
  failures: Array<{ request: string; status: number; ms: number; body: string }>;
  slowest: { request: string; ms: number };
  targets: Target[];
}

const PROVIDER_TARGETS: Array<[string, string]> = [
  ['GET', '/t/:slug/auth'],
  ['POST', '/t/:slug/auth'],
  ['POST', '/t/:slug/token'],
  ['POST', '/t/:slug/request'],
  ['POST', '/t/:slug/token/introspection'],
  ['POST', '/t/:slug/token/revocation'],
  ['GET', '/t/:slug/me'],
  ['POST', '/t/:slug/me'],
  ['GET', '/t/:slug/device/auth'],
  ['POST', '/t/:slug/device/auth'],
  ['GET', '/t/:slug/device'],
  ['POST', '/t/:slug/device'],
  ['GET', '/t/:slug/session/end'],
  ['POST', '/t/:slug/session/end'],
  ['GET', '/t/:slug/jwks'],
  ['GET', '/t/:slug/.well-known/openid-configuration'],
  ['GET', '/.well-known/oauth-authorization-server/t/:slug'],
];
const ROOT_TARGETS: Array<[string, string]> = [
  ['GET', '/health'],
  ['GET', '/ready'],
  ['GET', '/'],
  ['GET', '/metrics'],
  ['GET', '/t/:slug/no-such-page'],
];

/** Parameter names the endpoints read: generated keys are drawn mostly from these. */
const KNOWN_KEYS = [
  'client_id', 'client_secret', 'response_type', 'scope', 'redirect_uri', 'state', 'nonce', 'code_challenge', 'code_challenge_method',
  'prompt', 'max_age', 'acr_values', 'login_hint', 'id_token_hint', 'ui_locales', 'claims', 'request', 'request_uri', 'response_mode',
  'resource', 'grant_type', 'code', 'code_verifier', 'refresh_token', 'token', 'token_type_hint', 'device_code', 'user_code',
  'post_logout_redirect_uri', 'logout', 'xsrf', 'access_token', 'csrf', 'username', 'display_name', 'email', 'name', 'code', 'otp',
  'card', 'uid', 'next', 'consent', 'frames', 'challengeId', 'sentAt', 'credential', 'response', 'id', 'rawId', 'type', 'label',
  'factor', 'reason', 'role', 'hours', 'limit', 'cursor', 'q', 'status', 'event', 'from', 'to', 'actor', 'subject', 'until',
  'confirm', 'remember', 'recovery_code', 'codes', 'passkey', 'method', 'return_to', 'settings', 'signup', 'userVerification',
];

const SPECIAL_STRINGS = [
  '', ' ', '0', '-1', '1.5', '1e309', 'NaN', 'Infinity', '9007199254740993', '-9999999999999999999999', 'true', 'false', 'null',
  'undefined', '[]', '{}', '[object Object]', '__proto__', 'constructor', 'toString', '../../etc/passwd', '%', '%zz', '%E0%A4%A',
  '\\', '"', "'", '<script>alert(1)</script>', 'a'.repeat(5000), '2026-13-45T25:61:61Z', '1970-01-01T00:00:00Z', '00000000-0000-0000-0000-000000000000',
  'openid offline_access', 'S256', 'plain', 'code', 'none', 'consent login', 'http://localhost:3001/callback', 'javascript:alert(1)',
  'urn:ietf:params:oauth:grant-type:device_code', 'client_credentials', 'refresh_token', 'authorization_code', 'admin', 'helpdesk',
  'auditor', 'otp', 'passkey', 'face', 'nfc', 'demo-web', 'demo-service', 'eyJhbGciOiJub25lIn0.e30.', '\u202e\ufeff', '𝒳😀',
  '\ud800', 'ß'.repeat(300),
];

const fuzzString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.uuid().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);
const key = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...KNOWN_KEYS) }, { weight: 1, arbitrary: fuzzString });
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fuzzString },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, 1.5, [], {}, [''], { '': '' }) },
  { weight: 1, arbitrary: fc.array(fuzzString, { maxLength: 3 }) },
);
/** Base64 "pictures" for the face uploads: random bytes, sometimes with a JPEG/PNG signature in front. */
const frame = fc
  .tuple(fc.constantFrom('', '\xff\xd8\xff\xe0', '\x89PNG\r\n\x1a\n', 'RIFF\x00\x00\x00\x00WEBPVP8 '), fc.uint8Array({ minLength: 80, maxLength: 600 }))
  .map(([magic, bytes]) => Buffer.concat([Buffer.from(magic, 'latin1'), bytes]).toString('base64'));

/** A query string or form: mostly well-formed pairs, sometimes raw (broken percent-encoding, repeats). */
const pairs = fc.array(fc.tuple(key, fuzzString), { maxLength: 6 });
const rawQuery = fc.oneof(
  pairs.map((p) => new URLSearchParams(p).toString()),
  fc.constantFrom('a=%', '%%%', '&&&=&', 'scope=openid&scope=profile', 'a[b]=1&a[c][d]=2', 'x=' + '%41'.repeat(2000), '=', 'a=%ZZ'),
);

type BodyKind = 'none' | 'form' | 'json' | 'face' | 'multipart' | 'raw';
const body = fc.oneof(
  fc.constant({ kind: 'none' as BodyKind }),
  rawQuery.map((text) => ({ kind: 'form' as BodyKind, text })),
  fc.dictionary(key, jsonValue, { maxKeys: 6 }).map((object) => ({ kind: 'json' as BodyKind, object })),
  fc.record({ consent: fc.oneof(fc.constant(true), jsonValue), frames: fc.array(fc.oneof(frame, fc.record({ image: frame, at: fc.oneof(fc.double(), fc.integer()) })), { maxLength: 3 }), challengeId: fc.oneof(fc.uuid().map(String), fuzzString), sentAt: fc.oneof(fc.integer(), fc.double(), fuzzString) }).map((object) => ({ kind: 'face' as BodyKind, object })),
  fc.tuple(pairs, fc.uint8Array({ maxLength: 300 })).map(([fields, file]) => ({ kind: 'multipart' as BodyKind, fields, file })),
  fc.tuple(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/jwt', 'image/jpeg', 'application/json; charset=latin1', ''), fc.oneof(fuzzString, fc.constantFrom('{', '{"a":', '[1,2', '\u0000', 'null', '"x"', '1', '{"__proto__":{"x":1}}', '{"a":1,"a":2}'))).map(([type, text]) => ({ kind: 'raw' as BodyKind, type, text })),
);

/** One request, abstractly: `index` picks a target; the rest is filled in against it. */
const requestCase = fc.record({
  target: fc.nat(),
  slug: fc.oneof({ weight: 12, arbitrary: fc.constant('demo') }, { weight: 1, arbitrary: fc.constantFrom('nope', 'DEMO', 'd', 'demo-', 'a'.repeat(41)) }),
  validParams: fc.boolean(),
  params: fc.array(fuzzString, { minLength: 3, maxLength: 3 }),
  query: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 3, arbitrary: rawQuery }),
  body,
  auth: fc.constantFrom('none', 'admin', 'web', 'service', 'bad-bearer', 'bad-basic', 'garbage'),
  session: fc.constantFrom('none', 'interaction', 'account', 'bogus'),
  csrf: fc.constantFrom('valid', 'none', 'wrong'),
  accept: fc.constantFrom('text/html', 'application/json', '*/*', 'application/problem+json', 'image/png'),
});

export async function collectTargets(facet: TestFacet): Promise<Target[]> {
  const router = new Router({ prefix: '/t/:slug' });
  const deps = { config: facet.config, db: facet.database.db, logger: facet.logger, services: facet.services };
  registerInteractionRoutes(router, deps);
  registerAdminApi(router, deps);
  registerConsoleRoutes(router, deps);
  const targets: Target[] = [];
  const seen = new Set<string>();
  const add = (target: Target) => {
    const id = `${target.method} ${target.path}`;
    if (seen.has(id)) return;
    seen.add(id);
    targets.push(target);
  };
  for (const layer of router.stack) {
    for (const method of layer.methods) if (method !== 'HEAD') add({ method, path: layer.path as string, source: 'router' });
  }
  const document = (await (await fetch(`${facet.baseUrl}/t/demo/admin/api/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      add({
        method: method.toUpperCase(),
        path: `/t/:slug/admin/api${path.replace(/\{([^}]+)\}/g, ':$1')}`,
        source: 'openapi',
        bodyFields: schema?.properties ? Object.keys(schema.properties) : undefined,
        queryFields: (operation.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
      });
    }
  }
  for (const [method, path] of PROVIDER_TARGETS) add({ method, path, source: 'provider' });
  for (const [method, path] of ROOT_TARGETS) add({ method, path, source: 'root' });
  return targets;
}

/** Valid credentials the cases may use, refreshed as the fuzzer uses them up. */
class Credentials {
  #facet: TestFacet;
  interaction?: { uid: string; cookie: string; csrf: string; uses: number };
  account?: { cookie: string; csrf: string };
  userId = '';
  constructor(facet: TestFacet) {
    this.#facet = facet;
  }
  async setup() {
    const tenant = (await findTenant(this.#facet.database.db, 'demo'))!;
    const user = await withTenant(this.#facet.database.db, tenant, (trx) => createUser(trx, { username: `fuzz-${randomBytes(3).toString('hex')}` }));
    this.userId = user.id;
    const token = await withTenant(this.#facet.database.db, tenant, (trx) => openAccountSession(trx, { userId: user.id, amr: ['hwk', 'user'] }));
    const signature = createHmac('sha1', this.#facet.config.cookieKeys[0]!).update(`${ACCOUNT_COOKIE}=${token}`).digest('base64url');
    const cookie = `${ACCOUNT_COOKIE}=${token}; ${ACCOUNT_COOKIE}.sig=${signature}`;
    const page = await fetch(`${this.#facet.baseUrl}/t/demo/account`, { headers: { cookie, accept: 'text/html' } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    if (page.status !== 200 || !csrf) throw new Error(`fuzz setup: the account page answered ${page.status}`);
    this.account = { cookie, csrf };
  }
  async freshInteraction() {
    if (this.interaction && this.interaction.uses < 25) {
      this.interaction.uses += 1;
      return this.interaction;
    }
    const jar = new CookieJar();
    const login = await followRedirects(`${this.#facet.baseUrl}/t/demo/auth?${AUTH_QUERY}&state=${randomBytes(4).toString('hex')}`, jar, { origin: this.#facet.baseUrl });
    const html = await login.response!.text();
    const uid = /\/interaction\/([^/?#]+)/.exec(login.url.pathname)?.[1] ?? '';
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    this.interaction = { uid, cookie: jar.header(login.url), csrf, uses: 0 };
    return this.interaction;
  }
}

function describeCase(method: string, url: string, init: RequestInit & { headers: Record<string, string> }, bodyText: string) {
  return `${method} ${url} headers=${JSON.stringify(init.headers)} body=${bodyText.slice(0, 400)}`;
}

export async function runFuzz({ runs, seed, slowMs = 2000, onProgress }: { runs: number; seed?: number; slowMs?: number; onProgress?: (done: number) => void }): Promise<FuzzResult & { facet: TestFacet }> {
  const facet = await startTestFacet({
    env: {
      LOG_LEVEL: 'silent',
      // Every case comes from 127.0.0.1: volume limits would turn most of them into 429s.
      FACET_RATE_LIMITS: JSON.stringify(
        Object.fromEntries(['signin.ip', 'signup.ip', 'token.ip', 'token.account', 'stepup.ip', 'admin.ip', 'admin.account', 'account.ip', 'device.ip', 'face.ip'].map((name) => [name, { points: 1_000_000 }])),
      ),
    },
  });
  const targets = await collectTargets(facet);
  const credentials = new Credentials(facet);
  await credentials.setup();
  // The admin API's machine client (a token lives 10 minutes; fetched again when near expiry).
  const admin = adminAuthorizer(facet.baseUrl);
  const table = new Map<string, Map<number, number>>();
  const failures: FuzzResult['failures'] = [];
  let slowest = { request: '', ms: 0 };
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(requestCase, async (c) => {
      const target = targets[c.target % targets.length]!;
      const headers: Record<string, string> = { accept: c.accept };
      const cookies: string[] = [];
      let csrf: string | undefined;
      let uid = '';
      if (c.session === 'interaction' || target.path.includes(':uid')) {
        const interaction = await credentials.freshInteraction();
        uid = interaction.uid;
        if (c.session === 'interaction') {
          cookies.push(interaction.cookie);
          csrf = interaction.csrf;
        }
      }
      if (c.session === 'account') {
        cookies.push(credentials.account!.cookie);
        csrf = credentials.account!.csrf;
      }
      if (c.session === 'bogus') cookies.push(`${ACCOUNT_COOKIE}=x; ${ACCOUNT_COOKIE}.sig=y; _interaction=z; _session=w; facet_console=v`);
      if (cookies.length) headers.cookie = cookies.join('; ');
      const authorization = { none: undefined, admin: c.auth === 'admin' ? await admin() : undefined, web: WEB, service: SERVICE, 'bad-bearer': 'Bearer x.y.z', 'bad-basic': 'Basic Og==', garbage: 'Negotiate %%%' }[c.auth];
      if (authorization) headers.authorization = authorization;
      let param = 0;
      const path = target.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
        if (name === 'slug') return c.slug;
        const fuzzed = encodeURIComponent(c.params[param++ % 3]!.toWellFormed()) || 'x';
        if (!c.validParams) return fuzzed;
        if (name === 'uid') return uid || fuzzed;
        if (name === 'id' || name === 'userId') return credentials.userId;
        if (name === 'role') return 'helpdesk';
        if (name === 'clientId') return 'demo-web';
        return fuzzed;
      });
      const url = `${facet.baseUrl}${path}${c.query ? `?${c.query}` : ''}`;
      const withCsrf = (fields: Array<[string, string]>) => (c.csrf === 'valid' && csrf ? [['csrf', csrf] as [string, string], ...fields] : c.csrf === 'wrong' ? [['csrf', 'wrong'] as [string, string], ...fields] : fields);
      let payload: string | FormData | undefined;
      const b = c.body as any;
      if (target.method !== 'GET') {
        if (b.kind === 'form') {
          headers['content-type'] = 'application/x-www-form-urlencoded';
          const fields = new URLSearchParams(b.text);
          const csrfField = withCsrf([])[0];
          if (csrfField) fields.set(...csrfField);
          payload = fields.toString();
        } else if (b.kind === 'json' || b.kind === 'face') {
          headers['content-type'] = 'application/json';
          const object = { ...b.object } as Record<string, unknown>;
          // The OpenAPI document names the body's fields: use those names too.
          if (target.bodyFields?.length) for (const [index, name] of target.bodyFields.entries()) if (index % 2 === c.target % 2 || !(name in object)) object[name] = Object.values(b.object)[index] ?? c.params[index % 3];
          const csrfField = withCsrf([])[0];
          if (csrfField) object.csrf = csrfField[1];
          payload = JSON.stringify(object);
        } else if (b.kind === 'multipart') {
          const form = new FormData();
          for (const [name, value] of withCsrf(b.fields)) form.append(name, value);
          form.append('frame', new Blob([b.file], { type: 'image/jpeg' }), 'face.jpg');
          payload = form;
        } else if (b.kind === 'raw') {
          if (b.type) headers['content-type'] = b.type;
          payload = b.text;
        }
      }
      const started = performance.now();
      let status: number;
      let text = '';
      try {
        const response = await fetch(url, { method: target.method, headers, body: payload, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
        status = response.status;
        text = await response.text();
      } catch (error) {
        status = 599;
        text = String((error as Error)?.cause ?? error);
      }
      const ms = performance.now() - started;
      cases += 1;
      onProgress?.(cases);
      const row = `${target.method} ${target.path}`;
      const counts = table.get(row) ?? new Map<number, number>();
      counts.set(status, (counts.get(status) ?? 0) + 1);
      table.set(row, counts);
      const request = describeCase(target.method, url, { headers }, typeof payload === 'string' ? payload : payload ? '[multipart]' : '');
      if (ms > slowest.ms) slowest = { request, ms };
      if (status >= 500 || ms > slowMs) failures.push({ request, status, ms: Math.round(ms), body: text.slice(0, 300) });
      // Every case runs: the property itself never fails, the caller judges the collected failures.
      return true;
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  return { facet, cases, table, failures, slowest, targets };
}

/** The status table: one row per route, one column per status seen. */
export function formatTable(table: FuzzResult['table']): string {
  const statuses = [...new Set([...table.values()].flatMap((counts) => [...counts.keys()]))].sort((a, b) => a - b);
  const rows = [...table.entries()].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([name]) => name.length), 5);
  const header = `${'route'.padEnd(width)} ${statuses.map((s) => String(s).padStart(5)).join(' ')}`;
  const lines = rows.map(([name, counts]) => `${name.padEnd(width)} ${statuses.map((s) => String(counts.get(s) ?? '').padStart(5)).join(' ')}`);
  const totals = `${'total'.padEnd(width)} ${statuses.map((s) => String(rows.reduce((sum, [, counts]) => sum + (counts.get(s) ?? 0), 0)).padStart(5)).join(' ')}`;
  return [header, ...lines, totals].join('\n');
}
