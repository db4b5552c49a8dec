// Early refusal of request input PostgreSQL could not store (NUL, unpaired surrogates; see
// src/db/unstorable.ts), for every tenant route: the query string and the path, decoded. Runs
// before the tenant is loaded, so it never reaches a query. Bodies are checked where they are
// parsed (the OIDC adapter for OAuth endpoints; PostgreSQL's refusal is mapped to 400 besides).
import type { Context, Next } from 'koa';
import { isUnstorableString } from '../db/unstorable.ts';
import { respondInvalidRequest } from './error-responder.ts';

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // malformed escapes are the router's to refuse
  }
}

export function rejectUnstorableInput() {
  return async (ctx: Context, next: Next) => {
    let bad: string | undefined;
    if (isUnstorableString(decoded(ctx.path))) bad = 'the path';
    else {
      for (const [name, value] of new URLSearchParams(ctx.querystring)) {
        if (isUnstorableString(name) || isUnstorableString(value)) {
          bad = isUnstorableString(name) ? 'a parameter name' : `parameter ${JSON.stringify(name.slice(0, 40))}`;
          break;
        }
      }
    }
    if (!bad) return next();
    respondInvalidRequest(ctx, `${bad} contains a NUL character or an unpaired surrogate, which is not allowed`);
  };
}
