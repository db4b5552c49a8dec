// The admin API's branding (issue 12): display name, logo and primary colour of the tenant's
// end-user pages (served to them as /t/<slug>/brand.css and the page header). A colour is refused
// unless white text on it and it on white reach 4.5:1 (src/tenancy/brand-color.ts, the same check
// as the tenant file). A tenant file stays the source of truth for what it declares: its `name`
// and any logo_url/brand_color it sets are read-only here (409 managed_by_file, naming the field);
// what it leaves out is the console's, and `facet tenant apply` keeps it (src/tenancy/apply.ts).
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { HttpError } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { contrastRatio, darkModeShade } from '../tenancy/brand-color.ts';
import { findTenant, saveTenantSettings } from '../tenancy/registry.ts';
import type { StoredTenantSettings, TenantSettings } from '../tenancy/tenant-file.ts';
import { brandingBody } from './branding-settings.ts';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';

type Db = Parameters<typeof withTenant>[0];

/** public/facet.css's own accent, used when a tenant sets no colour. */
export const DEFAULT_PRIMARY_COLOR = '#2457d6';

const branding = z.object({
  displayName: z.string(),
  logoUrl: z.string().nullable(),
  primaryColor: z.string().nullable(),
});
const brandingAnswer = z.object({
  branding,
  defaults: z.object({ primaryColor: z.string() }),
  /** The colour in use: its contrast with white and the lighter shade dark pages use. */
  contrast: z.object({ color: z.string(), againstWhite: z.number(), darkModeShade: z.string() }),
  managedBy: z.string().nullable(),
  /** Fields the tenant file declares (read-only here). */
  readOnly: z.array(z.enum(['displayName', 'logoUrl', 'primaryColor'])),
});

export { brandingBody };

const AUTH_PROBLEMS = {
  401: 'No valid admin access token (invalid_token), or no console session.',
  403: 'The console role may not call this route (role_forbidden), or it needs a fresh step-up (step_up_required, with `redirect`).',
  429: 'Too many admin API requests from this address (Retry-After).',
} as const;

export const BRANDING_ROUTES = {
  getBranding: {
    method: 'get',
    path: '/branding',
    operationId: 'getBranding',
    summary: "The tenant's display name, logo and primary colour (with its contrast), and which a tenant file declares",
    tags: ['branding'],
    responses: { 200: { description: 'The branding.', schema: brandingAnswer } },
    problems: AUTH_PROBLEMS,
  },
  putBranding: {
    method: 'put',
    path: '/branding',
    operationId: 'changeBranding',
    summary: 'Change the display name, logo or primary colour (null removes a logo or colour); a colour below 4.5:1 contrast is refused (audited)',
    tags: ['branding'],
    body: brandingBody,
    bodyRequired: true,
    responses: { 200: { description: 'The branding now.', schema: brandingAnswer } },
    problems: {
      400: 'Invalid parameters (an unreadable colour, a logo that is not an http(s) URL); `errors` names each field.',
      409: 'The tenant file declares that field (managed_by_file): change the file and apply it.',
      ...AUTH_PROBLEMS,
    },
  },
} satisfies Record<string, RouteSpec>;

async function tenantFileOf(config: Config, slug: string): Promise<{ file: string; declares: Array<'displayName' | 'logoUrl' | 'primaryColor'> } | null> {
  for (const name of [`${slug}.yaml`, `${slug}.yml`]) {
    const file = path.join(config.tenantsDir, name);
    if (!(await access(file).then(() => true, () => false))) continue;
    const parsed = (parseYaml(await readFile(file, 'utf8')) ?? {}) as { settings?: Record<string, unknown> };
    const settings = parsed.settings ?? {};
    return {
      file: path.relative(process.cwd(), file) || file,
      // A tenant file always has its name.
      declares: ['displayName', ...(settings.logo_url !== undefined ? (['logoUrl'] as const) : []), ...(settings.brand_color !== undefined ? (['primaryColor'] as const) : [])],
    };
  }
  return null;
}

function answer(name: string, settings: Pick<TenantSettings, 'logo_url' | 'brand_color'>, managed: Awaited<ReturnType<typeof tenantFileOf>>) {
  const color = settings.brand_color ?? DEFAULT_PRIMARY_COLOR;
  return {
    branding: { displayName: name, logoUrl: settings.logo_url ?? null, primaryColor: settings.brand_color ?? null },
    defaults: { primaryColor: DEFAULT_PRIMARY_COLOR },
    contrast: { color, againstWhite: Math.round(contrastRatio(color, '#ffffff') * 100) / 100, darkModeShade: darkModeShade(color) },
    managedBy: managed?.file ?? null,
    readOnly: managed?.declares ?? [],
  };
}

export function registerBrandingApi(router: Router, { config, db, guard, checkResponses }: { config: Config; db: Db; guard: Middleware[]; checkResponses: boolean }): void {
  const options = { checkResponses };
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`/admin/api${spec.path}`, ...guard, handle);
  const runtimeOf = (ctx: Context) => ctx.state.tenant as TenantRuntime;

  mount(
    route(
      BRANDING_ROUTES.getBranding,
      async (ctx) => {
        const runtime = runtimeOf(ctx);
        const tenant = (await findTenant(db, runtime.tenant.slug)) ?? runtime.tenant;
        return { status: 200, body: answer(tenant.name, tenant.settings, await tenantFileOf(config, runtime.tenant.slug)) };
      },
      options,
    ),
  );

  mount(
    route(
      BRANDING_ROUTES.putBranding,
      async (ctx, { body }) => {
        const runtime = runtimeOf(ctx);
        const managed = await tenantFileOf(config, runtime.tenant.slug);
        const asked = (Object.keys(body) as Array<keyof typeof body>).filter((key) => body[key] !== undefined);
        const refused = asked.filter((key) => managed?.declares.includes(key));
        if (refused.length > 0) {
          const detail = `${managed!.file} declares ${refused.join(', ')}: change the file and apply it (facet tenant apply ${managed!.file}).`;
          throw new HttpError(409, 'managed_by_file', 'Conflict', detail, { extensions: { errors: refused.map((key) => ({ in: 'body', pointer: `#/${key}`, detail: `set in ${managed!.file}` })) } });
        }
        const tenant = (await findTenant(db, runtime.tenant.slug)) ?? runtime.tenant;
        const settings: StoredTenantSettings = { ...tenant.settings };
        if (body.logoUrl !== undefined) {
          if (body.logoUrl === null) delete settings.logo_url;
          else settings.logo_url = body.logoUrl;
        }
        if (body.primaryColor !== undefined) {
          if (body.primaryColor === null) delete settings.brand_color;
          else settings.brand_color = body.primaryColor.toLowerCase();
        }
        const name = body.displayName ?? tenant.name;
        await saveTenantSettings(db, runtime.tenant.slug, { name, settings });
        await withTenant(db, runtime.tenant, (trx) =>
          appendAudit(trx, { type: 'tenant.branding_changed', actor: String(ctx.state.adminActor ?? 'admin'), ip: ctx.ip, userAgent: ctx.get('user-agent') || null, data: { fields: asked } }),
        );
        return { status: 200, body: answer(name, settings, managed) };
      },
      options,
    ),
  );
}
