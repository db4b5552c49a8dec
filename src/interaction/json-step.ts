// A JSON step of the pages, declared in json-api.ts: the route guard parses its input once the
// flow (and with it the CSRF check) is known, and its reply is checked against the declaration in
// development and tests. Refusals are thrown (`refusal`, `tooManyRequests`) and answered as
// problem+json by the one responder.
import type { Context } from 'koa';
import type { Config } from '../config/index.ts';
import { guardedInput, sendReply, type GuardedInput, type GuardOptions, type InputOptions, type Reply, type RouteSpec, type Schema } from '../http/middleware/guard.ts';
import type { Flow, InteractionDeps } from './flow.ts';

/** Replies are checked against their declarations except in production. */
export function replyChecks(config: Pick<Config, 'production'>): GuardOptions {
  return { checkResponses: !config.production };
}

/** Parses the declared input, runs the handler, writes its reply (or nothing: it answered itself). */
export async function runDeclared<P extends Schema, Q extends Schema, B extends Schema>(
  ctx: Context,
  spec: RouteSpec<P, Q, B>,
  config: Pick<Config, 'production'>,
  handler: (input: GuardedInput<P, Q, B>) => Promise<Reply | undefined>,
  options: InputOptions = {},
): Promise<void> {
  const reply = await handler(await guardedInput(ctx, spec, options));
  if (reply) sendReply(ctx, spec as RouteSpec, reply, replyChecks(config));
}

/** A flow step (sign-in, sign-up) answered with JSON, declared by `spec`. */
export function jsonStep<P extends Schema, Q extends Schema, B extends Schema>(
  spec: RouteSpec<P, Q, B>,
  handler: (ctx: Context, flow: Flow, deps: InteractionDeps, input: GuardedInput<P, Q, B>) => Promise<Reply>,
) {
  return (ctx: Context, flow: Flow, deps: InteractionDeps): Promise<void> => runDeclared(ctx, spec, deps.config, (input) => handler(ctx, flow, deps, input));
}
