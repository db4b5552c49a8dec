// The interaction pages (sign in, sign up, consent) under /t/<slug>/interaction/:uid.
// Placeholder until passkey sign-in lands: a clear page instead of a dead end.
import type Router from '@koa/router';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { TenantRuntime } from '../tenancy/runtime.ts';
import { messagePage } from '../../views/layout.ts';

export interface InteractionDeps {
  config: Config;
  db: Kysely<any>;
  logger: Logger;
}

export function registerInteractionRoutes(router: Router, _deps: InteractionDeps): void {
  router.get('/interaction/:uid', (ctx) => {
    const runtime = ctx.state.tenant as TenantRuntime;
    ctx.type = 'html';
    ctx.body = messagePage({
      title: 'Sign in',
      tenantName: runtime.tenant.name,
      heading: 'Sign-in is not set up yet',
      message: 'This organisation has not enabled a way to sign in.',
    }).value;
  });
}
