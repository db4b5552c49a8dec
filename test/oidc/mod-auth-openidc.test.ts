// Apache with mod_auth_openidc (Debian libapache2-mod-auth-openidc) as the relying party (issue 14):
// the README's configuration, unchanged but for ports, protects a location; a sign-in through
// Facet gives the Apache session an ID token (sub, acr) and — for a first-party client, without
// configuring prompt=consent — a refresh token.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTestFacet, freePort, type TestFacet } from '../support/facet.ts';
import { authorizeAs } from '../support/code-flow.ts';
import { CookieJar } from '../support/http-agent.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { applyTenantFile } from '../../src/tenancy/apply.ts';
import { parseTenantFile } from '../../src/tenancy/tenant-file.ts';
import { findTenant } from '../../src/tenancy/registry.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const SECRET = 'apache-rp-dev-secret-0000';
const available = existsSync(APACHE) && existsSync(path.join(MODULES, 'mod_auth_openidc.so'));

/** The relying party's configuration, as the README shows it. */
export function modAuthOpenidcConfig({ issuer, origin, clientId, secret }: { issuer: string; origin: string; clientId: string; secret: string }): string {
  return `OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration
OIDCClientID ${clientId}
OIDCClientSecret ${secret}
OIDCRedirectURI ${origin}/protected/redirect_uri
OIDCCryptoPassphrase change-me-to-a-long-random-value
OIDCScope "openid profile offline_access"
OIDCPKCEMethod S256
OIDCRemoteUserClaim sub
OIDCInfoHook iat access_token id_token userinfo refresh_token session
<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
`;
}

describe('Apache mod_auth_openidc as the relying party', { skip: available ? false : 'apache2 with mod_auth_openidc is not installed' }, () => {
  let facet: TestFacet;
  let apache: ChildProcess | undefined;
  let dir: string;
  let origin: string;
  let sub: string;

  before(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    facet = await startTestFacet();
    const file = parseTenantFile(`
slug: apache
name: Apache RP
settings: { signup: open }
clients:
  - client_id: apache-rp
    first_party: true
    redirect_uris: [${origin}/protected/redirect_uri]
    grant_types: [authorization_code, refresh_token]
    secret: { env: APACHE_RP_SECRET, dev: ${SECRET} }
`);
    await applyTenantFile(facet.database.db, file, { kek: facet.config.kek, production: false });
    const tenant = (await findTenant(facet.database.db, 'apache'))!;
    sub = (await withTenant(facet.database.db, tenant, (trx) => createUser(trx, { username: 'apache-user', displayName: 'Apache User' }))).id;

    dir = await mkdtemp(path.join(tmpdir(), 'facet-apache-'));
    await mkdir(path.join(dir, 'htdocs/protected'), { recursive: true });
    await writeFile(path.join(dir, 'htdocs/protected/index.html'), 'protected content\n');
    await chmod(dir, 0o755);
    const conf = `ServerRoot ${dir}
DefaultRuntimeDir ${dir}
PidFile ${dir}/httpd.pid
Mutex file:${dir} default
Listen 127.0.0.1:${port}
ServerName localhost
User www-data
Group www-data
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule unixd_module ${MODULES}/mod_unixd.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule dir_module ${MODULES}/mod_dir.so
LoadModule mime_module ${MODULES}/mod_mime.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
ErrorLog ${dir}/error.log
LogLevel warn auth_openidc:info
DocumentRoot ${dir}/htdocs
DirectoryIndex index.html
TypesConfig /etc/mime.types
${modAuthOpenidcConfig({ issuer: `${facet.baseUrl}/t/apache`, origin, clientId: 'apache-rp', secret: SECRET })}`;
    // mod_unixd may be built in; load it only when it is a module here.
    const finalConf = existsSync(path.join(MODULES, 'mod_unixd.so')) ? conf : conf.replace(/^LoadModule unixd_module.*\n/m, '');
    await writeFile(path.join(dir, 'httpd.conf'), finalConf);
    apache = spawn(APACHE, ['-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], { stdio: ['ignore', 'inherit', 'inherit'] });
    for (let i = 0; i < 100; i += 1) {
      const up = await fetch(`${origin}/`).then(
        () => true,
        () => false,
      );
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  after(async () => {
    if (apache?.pid) {
      apache.kill('SIGTERM');
      await new Promise((resolve) => apache!.once('exit', resolve));
    }
    await facet?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A browser-like navigation with node:http (fetch always says Sec-Fetch-Mode: cors, which mod_auth_openidc answers with 401). */
  async function get(url: string, jar: CookieJar): Promise<Response> {
    const target = new URL(url, origin);
    const response = await new Promise<Response>((resolve, reject) => {
      const req = request(target, { headers: { cookie: jar.header(target), accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
          }
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers }));
        });
      });
      req.on('error', reject);
      req.end();
    });
    jar.store(response);
    return response;
  }

  test('sign-in through Facet; the Apache session holds the ID token and a refresh token (no prompt=consent configured)', async () => {
    const apacheJar = new CookieJar();
    const start = await get('/protected/', apacheJar);
    assert.equal(start.status, 302, `mod_auth_openidc redirects to Facet (${await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')})`);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.origin + authorize.pathname, `${facet.baseUrl}/t/apache/auth`);
    assert.equal(authorize.searchParams.get('prompt'), null);

    const step = await authorizeAs(authorize, new CookieJar(), { origin: facet.baseUrl, sub });
    assert.equal(step.response, undefined, 'Facet redirected back to Apache');
    const callback = await get(step.url.href, apacheJar);
    assert.equal(callback.status, 302, `code exchanged (${await readFile(path.join(dir, 'error.log'), 'utf8')})`);

    const page = await get('/protected/', apacheJar);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), 'protected content\n');

    const info = (await (await get('/protected/redirect_uri?info=json', apacheJar)).json()) as {
      id_token?: Record<string, unknown>;
      refresh_token?: string;
      userinfo?: Record<string, unknown>;
    };
    assert.equal(info.id_token?.sub, sub);
    assert.ok(typeof info.id_token?.acr === 'string', 'acr in the ID token');
    assert.ok(info.refresh_token, 'a refresh token without configuring prompt=consent');
    assert.equal(info.userinfo?.sub, sub, 'userinfo answered mod_auth_openidc');
  });
});
