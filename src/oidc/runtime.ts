// Everything Facet holds in memory for one tenant while it is warm: its record, its OIDC
// provider and that provider's request handler. Built by the pool; handed to tenant routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'koa';
import type { TenantRecord } from '../tenancy/registry.ts';
import type { TenantProvider } from './provider.ts';
import { createOidcFacade, type OidcFacade } from './facade.ts';

export interface TenantRuntime extends TenantProvider {
  tenant: TenantRecord;
  /** The one door to the tenant's oidc-provider for pages and routes (src/oidc/facade.ts). */
  oidc: OidcFacade;
  basePath: string;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export function createRuntime(tenant: TenantRecord, built: TenantProvider): TenantRuntime {
  const handle = built.provider.callback() as unknown as TenantRuntime['handle'];
  return { ...built, tenant, basePath: `/t/${tenant.slug}`, handle, oidc: createOidcFacade(built.provider) };
}

/** oidc-provider's routes (its default `routes`, discovery and the pages under them). */
const PROVIDER_PATHS = ['/auth', '/backchannel', '/device', '/challenge', '/session/end', '/token', '/jwks', '/request', '/reg', '/me', '/credential', '/.well-known'];

/** Whether a path under the tenant (prefix stripped) is one the provider answers at all. */
export function isProviderPath(rest: string): boolean {
  return PROVIDER_PATHS.some((route) => rest === route || rest.startsWith(`${route}/`));
}

/** Hands the request to the tenant's provider, with the tenant prefix stripped from the path. */
export async function delegateToProvider(ctx: Context, runtime: TenantRuntime): Promise<void> {
  const rest = ctx.path.slice(runtime.basePath.length) || '/';
  (ctx.req as IncomingMessage & { originalUrl?: string }).originalUrl = ctx.originalUrl;
  ctx.req.url = ctx.querystring ? `${rest}?${ctx.querystring}` : rest;
  ctx.respond = false;
  await runtime.handle(ctx.req, ctx.res);
  ctx.status = ctx.res.statusCode;
}

