// Admin API authentication until the console brings admin sign-in: a per-tenant bearer token,
// named in the tenant file (settings.admin_token: { env: … }) and compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Config } from '../config/index.ts';
import { HttpError } from '../errors/http-errors.ts';
import { resolveSecret } from '../config/client-secrets.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireAdminToken(config: Config) {
  return async (ctx: Context, next: Next) => {
    const runtime = ctx.state.tenant as TenantRuntime;
    const ref = (runtime.tenant.settings as { admin_token?: { env: string; dev?: string } }).admin_token;
    if (!ref) throw new HttpError(404, 'admin_api_disabled', 'Not found', 'This tenant has no admin API token configured (settings.admin_token).');
    let expected: string;
    try {
      expected = resolveSecret(`${runtime.tenant.slug} admin API`, ref.env, ref.dev ?? null, config.production, process.env);
    } catch (cause) {
      throw new HttpError(503, 'admin_api_unavailable', 'Admin API unavailable', (cause as Error).message);
    }
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(ctx.get('authorization'));
    // Compare digests: equal length, and no early exit on the first differing byte.
    if (!match || !timingSafeEqual(digest(match[1]!), digest(expected))) {
      ctx.set('WWW-Authenticate', 'Bearer realm="facet-admin"');
      throw new HttpError(401, 'unauthorized', 'Unauthorized', 'A valid admin bearer token is required.');
    }
    ctx.state.adminActor = `admin-token:${runtime.tenant.slug}`;
    await next();
  };
}
