// The answer for a path under a tenant that nothing serves: 404 with a sentence for people (the
// error responder makes it the tenant's branded page for browsers, problem+json for the rest).
import type { Context } from 'koa';
import { HttpError } from '../errors/http-errors.ts';
import { stringsFor } from '../../views/strings/index.ts';

export function pageNotFound(ctx: Context): HttpError {
  const t = stringsFor(ctx.get('accept-language'));
  return new HttpError(404, 'not_found', t.errors.notFoundTitle, t.errors.notFound);
}
