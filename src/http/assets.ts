// Static assets from public/ under /assets/, served from our own origin (CSP 'self').
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Next } from 'koa';

const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');
const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' };
const NAME = /^\/assets\/((?:build\/)?[a-z0-9._-]+\.(?:css|js|svg|png))$/;

export function serveAssets() {
  return async (ctx: Context, next: Next) => {
    const match = ctx.method === 'GET' || ctx.method === 'HEAD' ? NAME.exec(ctx.path) : null;
    if (!match) return next();
    try {
      ctx.body = await readFile(path.join(PUBLIC_DIR, match[1]!));
      ctx.type = TYPES[path.extname(match[1]!)]!;
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.set('X-Content-Type-Options', 'nosniff');
    } catch {
      return next();
    }
  };
}
