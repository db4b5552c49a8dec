// The platform operators' JSON API (issue 12), at /operator/api/…: tenants with their status, their
// state in this process's pool and their pending migrations; create a tenant; disable and enable
// one; apply a tenant file. Called by the operator console (/console, src/console/operator-routes.ts)
// with an operator's session; every route is declared with the route guard, and the API describes
// itself at GET /operator/api/openapi.json.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import type { RootDb } from '../db/client.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { pendingMigrations } from '../db/migrations.ts';
import { HttpError, notFound } from '../errors/http-errors.ts';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';
import { openApiDocument } from '../http/openapi.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { findTenant, listTenants, setTenantStatus, type TenantRecord } from '../tenancy/registry.ts';
import { createTenant, TenantExistsError } from '../tenancy/provision.ts';
import { InvalidSlugError } from '../tenancy/names.ts';
import { applyTenantFile } from '../tenancy/apply.ts';
import { parseTenantFile, TenantFileError } from '../tenancy/tenant-file.ts';
import { ClientSecretError } from '../config/client-secrets.ts';

export const OPERATOR_API_BASE = '/operator/api';

const slug = z.string().regex(/^[a-z0-9-]{2,40}$/, 'a slug: 2–40 characters of a-z, 0-9 and -');
const tenantView = z.object({
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'disabled']),
  configVersion: z.number().int(),
  /** Whether the tenant is this operator tenant (it cannot be disabled from here). */
  operatorTenant: z.boolean(),
  pool: z.object({ warm: z.boolean().describe('Loaded in this process (its provider built).'), inFlight: z.number().int().describe('Requests it is serving now in this process.') }),
  migrations: z.object({ pending: z.array(z.string()).describe('Tenant migrations not yet applied to its schema (facet migrate applies them).') }),
});
const AUTH = {
  401: 'No operator session (sign in at /console).',
  403: 'Signed in, but not an operator (code operator_forbidden), a write without the session CSRF token (csrf_failed), or a write without a step-up to the operator tenant’s admin acr in the last 5 minutes (step_up_required, with `acr` and `redirect`).',
  429: 'Too many requests (Retry-After).',
  503: 'The operator tenant is unavailable, or the database is briefly unavailable (Retry-After).',
} as const;
const INPUT = { 400: 'Invalid parameters (invalid_parameters), or invalid JSON.', 413: 'The body is too large.', 415: 'The body is not JSON.' } as const;

export const OPERATOR_ROUTES = {
  listTenants: {
    method: 'get',
    path: '/tenants',
    operationId: 'listTenants',
    summary: 'Every tenant: status, pool state in this process, pending migrations',
    tags: ['tenants'],
    responses: { 200: { description: 'The tenants, by slug.', schema: z.object({ tenants: z.array(tenantView) }) } },
    problems: AUTH,
  },
  createTenant: {
    method: 'post',
    path: '/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant: registry row, schema, role, migrations, signing keys (one transaction)',
    tags: ['tenants'],
    body: z.object({ slug, name: z.string().trim().min(1).max(120).optional() }).strict(),
    bodyRequired: true,
    responses: { 201: { description: 'Created.', schema: z.object({ tenant: tenantView }) } },
    problems: { ...INPUT, ...AUTH, 409: 'A tenant with that slug exists (tenant_exists).' },
  },
  disableTenant: {
    method: 'post',
    path: '/tenants/:slug/disable',
    operationId: 'disableTenant',
    summary: "Disable a tenant: its issuer, pages and APIs answer 403 tenant_disabled on every node (audited in the tenant's log)",
    tags: ['tenants'],
    params: z.object({ slug }),
    responses: { 200: { description: 'Disabled (or already was).', schema: z.object({ tenant: tenantView }) } },
    problems: { 400: INPUT[400], ...AUTH, 404: 'No such tenant.', 409: 'The operator tenant itself cannot be disabled here (operator_tenant).' },
  },
  enableTenant: {
    method: 'post',
    path: '/tenants/:slug/enable',
    operationId: 'enableTenant',
    summary: 'Enable a disabled tenant again (audited)',
    tags: ['tenants'],
    params: z.object({ slug }),
    responses: { 200: { description: 'Enabled (or already was).', schema: z.object({ tenant: tenantView }) } },
    problems: { 400: INPUT[400], ...AUTH, 404: 'No such tenant.' },
  },
  applyTenantFile: {
    method: 'post',
    path: '/tenant-files',
    operationId: 'applyTenantFile',
    summary: 'Create or update a tenant from a tenant file (YAML, the same as facet tenant apply); idempotent',
    tags: ['tenants'],
    body: z.object({ yaml: z.string().min(1).max(200_000).describe('The tenant file, as YAML.') }).strict(),
    bodyRequired: true,
    bodyLimit: 256 * 1024,
    responses: {
      200: {
        description: 'What the apply did.',
        schema: z.object({
          slug: z.string(),
          created: z.boolean(),
          settingsChanged: z.boolean(),
          clients: z.object({ added: z.array(z.string()), updated: z.array(z.string()), removed: z.array(z.string()), unchanged: z.array(z.string()) }),
        }),
      },
    },
    problems: { ...INPUT, ...AUTH, 422: 'The file does not validate, or names a secret that cannot be resolved (invalid_tenant_file, with the problems in detail).' },
  },
  openapi: {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOperatorOpenApiDocument',
    summary: 'This API described as OpenAPI 3.1 (built from the route declarations)',
    tags: ['meta'],
    public: true,
    responses: { 200: { description: 'The OpenAPI document.', schema: z.object({ openapi: z.literal('3.1.0') }).loose() } },
  },
} satisfies Record<string, RouteSpec>;

export function operatorApiDocument(serverUrl: string) {
  return openApiDocument({
    title: 'Facet operator API',
    version: '1',
    description:
      'Platform operation across tenants, for users holding the `operator` role in the operator tenant (FACET_OPERATOR_TENANT), signed in at /console. Writes need the session CSRF token in X-Facet-CSRF. Errors are RFC 9457 problem+json with a stable `code`.',
    serverUrl,
    routes: Object.values(OPERATOR_ROUTES) as RouteSpec[],
  });
}

export interface OperatorApiDeps {
  config: Config;
  db: RootDb;
  /** The pool's view of a tenant in this process. */
  poolState: (slug: string) => { warm: boolean; inFlight: number };
  /** Middleware run before every non-public route: the operator session (src/console/operator-routes.ts). */
  authenticate: (ctx: Context, next: () => Promise<void>) => Promise<void>;
}

export function registerOperatorApi(router: Router, deps: OperatorApiDeps): void {
  const { config, db } = deps;
  const checkResponses = !config.production;
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`${OPERATOR_API_BASE}${spec.path}`, ...(spec.public ? [] : [deps.authenticate]), handle);
  const actorOf = (ctx: Context) => `operator:${String((ctx.state.operator as { username?: string } | undefined)?.username ?? 'unknown')}`;

  const view = async (tenant: TenantRecord): Promise<z.infer<typeof tenantView>> => ({
    slug: tenant.slug,
    name: tenant.name,
    status: tenant.status,
    configVersion: tenant.configVersion,
    operatorTenant: tenant.slug === config.operatorTenant,
    pool: deps.poolState(tenant.slug),
    migrations: { pending: await pendingMigrations(db, 'tenant', tenant.schema) },
  });
  const existing = async (slugValue: string) => {
    const tenant = await findTenant(db, slugValue);
    if (!tenant) throw notFound(`no tenant ${slugValue}`);
    return tenant;
  };
  const setStatus = async (ctx: Context, slugValue: string, status: 'active' | 'disabled') => {
    const tenant = await existing(slugValue);
    if (tenant.status !== status) {
      await setTenantStatus(db, tenant.slug, status);
      await withTenant(db, tenant, (trx) =>
        appendAudit(trx, {
          type: status === 'disabled' ? 'tenant.disabled' : 'tenant.enabled',
          actor: actorOf(ctx),
          ip: ctx.ip,
          userAgent: ctx.get('user-agent') || null,
          data: { operator_tenant: config.operatorTenant ?? '' },
        }),
      );
    }
    return { status: 200, body: { tenant: await view((await findTenant(db, tenant.slug))!) } };
  };

  mount(route(OPERATOR_ROUTES.listTenants, async () => ({ status: 200, body: { tenants: await Promise.all((await listTenants(db)).map(view)) } }), { checkResponses }));
  mount(
    route(
      OPERATOR_ROUTES.createTenant,
      async (ctx, { body }) => {
        try {
          const tenant = await createTenant(db, { slug: body.slug, ...(body.name ? { name: body.name } : {}) }, { kek: config.kek, actor: actorOf(ctx) });
          return { status: 201, body: { tenant: await view(tenant) } };
        } catch (error) {
          if (error instanceof TenantExistsError) throw new HttpError(409, 'tenant_exists', 'Conflict', error.message);
          if (error instanceof InvalidSlugError) throw new HttpError(400, 'invalid_parameters', 'Invalid parameters', error.message);
          throw error;
        }
      },
      { checkResponses },
    ),
  );
  mount(
    route(
      OPERATOR_ROUTES.disableTenant,
      async (ctx, { params }) => {
        if (params.slug === config.operatorTenant) {
          throw new HttpError(409, 'operator_tenant', 'Conflict', 'The operator tenant cannot be disabled from the operator console: operators sign in through it.');
        }
        return setStatus(ctx, params.slug, 'disabled');
      },
      { checkResponses },
    ),
  );
  mount(route(OPERATOR_ROUTES.enableTenant, async (ctx, { params }) => setStatus(ctx, params.slug, 'active'), { checkResponses }));
  mount(
    route(
      OPERATOR_ROUTES.applyTenantFile,
      async (ctx, { body }) => {
        try {
          const file = parseTenantFile(body.yaml, 'tenant file');
          const report = await applyTenantFile(db, file, { kek: config.kek, production: config.production, actor: actorOf(ctx) });
          return { status: 200, body: { slug: report.slug, created: report.created, settingsChanged: report.settingsChanged, clients: report.clients } };
        } catch (error) {
          if (error instanceof TenantFileError || error instanceof ClientSecretError || error instanceof InvalidSlugError) {
            throw new HttpError(422, 'invalid_tenant_file', 'Invalid tenant file', (error as Error).message);
          }
          throw error;
        }
      },
      { checkResponses },
    ),
  );
  mount(route(OPERATOR_ROUTES.openapi, async () => ({ status: 200, body: operatorApiDocument(`${config.publicUrl}${OPERATOR_API_BASE}`) }), { checkResponses }));
}
