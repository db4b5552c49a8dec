// /t/<slug>/brand.css: the tenant's colour as CSS custom properties, linked by every page under
// the tenant (ui/components/layout.tsx). A stylesheet from our origin keeps the CSP's style-src 'self'.
// Without a brand_color the defaults of public/facet.css stand.
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { brandColorProblem, darkModeShade } from '../tenancy/brand-color.ts';

export function brandCss(color: string | undefined): string {
  if (!color || brandColorProblem(color)) return '/* no tenant colour: the defaults of facet.css apply */\n';
  return `:root { --accent: ${color}; --accent-text: light-dark(${color}, ${darkModeShade(color)}); }\n`;
}

export function serveBrandCss(ctx: Context): void {
  const runtime = ctx.state.tenant as TenantRuntime;
  const body = brandCss(runtime.settings.brand_color);
  // Revalidated on every page (a colour changed in the console shows at once), answered 304 when unchanged.
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('ETag', etag);
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (ctx.get('if-none-match') === etag) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'text/css; charset=utf-8';
  ctx.body = body;
}
