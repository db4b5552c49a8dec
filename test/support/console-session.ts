// The console's admin API from a test, as the console itself calls it: a Facet with its own copy
// of the tenant files (a test may change or apply them again), users holding console roles, a
// console session signed in through the tenant's own OIDC (the session cookie and the page's CSRF
// token), calls to /t/<slug>/console/api, and a fresh step-up for the sensitive writes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { projectRoot, startTestFacet, type TestFacet } from './facet.ts';
import { CookieJar, followRedirects } from './http-agent.ts';
import { finishInteractions } from './code-flow.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import { grantRole, type Role } from '../../src/admin/roles.ts';

export interface ConsoleSession {
  jar: CookieJar;
  csrf: string;
}

export interface ConsoleTestFacet {
  facet: TestFacet;
  demo: TenantRecord;
  /** tenants/demo.yaml as shipped, which the copy started from. */
  demoYaml: string;
}

/** Starts Facet on `database` with a temporary copy of tenants/demo.yaml as its tenant files. */
export async function startFacetWithDemoCopy(database: 'postgres' | 'pglite'): Promise<ConsoleTestFacet> {
  const dir = await mkdtemp(path.join(tmpdir(), 'facet-console-'));
  const demoYaml = await readFile(path.join(projectRoot, 'tenants/demo.yaml'), 'utf8');
  await writeFile(path.join(dir, 'demo.yaml'), demoYaml);
  const facet = await startTestFacet({ database, tenantsDir: dir });
  return { facet, demo: (await findTenant(facet.database.db, 'demo'))!, demoYaml };
}

/** A user of the tenant holding a console role (granted as the CLI would); answers the user's id. */
export async function createUserWithRole(facet: TestFacet, tenant: TenantRecord, username: string, role: Role): Promise<string> {
  return withTenant(facet.database.db, tenant, async (trx) => {
    const id = (await createUser(trx, { username, email: `${username}@${tenant.slug}.example` })).id;
    await grantRole(trx, { userId: id, role, source: 'cli', actor: 'test' });
    return id;
  });
}

/** Signs `sub` in to the console through the tenant's authorization endpoint (code flow, no browser). */
export async function consoleSignIn(facet: TestFacet, sub: string, { slug = 'demo' }: { slug?: string } = {}): Promise<ConsoleSession> {
  const jar = new CookieJar();
  const origin = facet.baseUrl;
  const step = await finishInteractions(await followRedirects(`${origin}/t/${slug}/console/users`, jar, { origin }), jar, { origin, sub });
  const text = await step.response!.text();
  assert.equal(step.response!.status, 200, text);
  return { jar, csrf: /data-csrf="([^"]+)"/.exec(text)![1]! };
}

/** A console API call with the session's cookie and CSRF header; `body` is sent as JSON. */
export function consoleApi(
  facet: TestFacet,
  who: ConsoleSession,
  route: string,
  { method = 'GET', body, slug = 'demo' }: { method?: string; body?: unknown; slug?: string } = {},
): Promise<Response> {
  const base = `${facet.baseUrl}/t/${slug}/console/api`;
  return fetch(`${base}${route}`, {
    method,
    headers: {
      cookie: who.jar.header(new URL(base)),
      'x-facet-csrf': who.csrf,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/**
 * Marks the user's console sessions as stepped up just now (the admin acr), as a step-up through
 * Facet's own pages would: the browser tests go through those pages, these tests test the API.
 */
export async function freshStepUp(facet: TestFacet, tenant: TenantRecord, userId: string): Promise<void> {
  await withTenant(facet.database.db, tenant, (trx) => trx.updateTable('console_sessions').set({ acr: 'urn:facet:acr:passkey+otp', auth_time: new Date() }).where('user_id', '=', userId).execute());
}
