// "Cancel and go back to the application" on the sign-in and step-up pages: the interaction ends
// at the client with access_denied (OIDC Core 3.1.2.6), as if the user had denied consent.
import type { Context } from 'koa';
import { type Flow, type InteractionDeps } from './flow.ts';

export async function cancelInteraction(ctx: Context, flow: Flow, _deps: InteractionDeps): Promise<void> {
  ctx.status = 303;
  ctx.redirect(await flow.runtime.oidc.fail(ctx.req, ctx.res, 'access_denied', 'the user cancelled the sign-in'));
}
