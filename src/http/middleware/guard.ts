// The route guard: a route declares its path parameters, query, body and responses as zod schemas;
// the guard parses the input before the handler runs (a specific 400 problem otherwise), reads the
// body with the one body reader, and writes the handler's reply. The same declarations build the
// OpenAPI document (src/http/openapi.ts), so the published contract cannot drift from the code.
// With `checkResponses` (development and tests) a reply outside its declared schema is a 500 and
// a log line, never a silent change of contract.
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { HttpError } from '../../errors/http-errors.ts';
import { BODY_LIMITS, readBody, requireJsonBody } from './body.ts';
import { fieldErrors } from '../field-errors.ts';

/**
 * Any zod schema: classic (`zod`) or mini (`zod/mini`, the bodies the console bundles too, e.g.
 * src/admin/client-settings.ts); both are zod core schemas, parsed and described the same way.
 */
export type Schema = z.core.$ZodType;

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** The JSON body (as sent: dates are ISO strings). No schema: no body (204). */
  schema?: Schema;
}

export interface RouteSpec<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema> {
  method: HttpMethod;
  /** Koa-router path relative to the API's base, e.g. `/users/:id/unlock`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Whether a body must be sent (default: false; an empty body parses as {}). */
  bodyRequired?: boolean;
  /** Body size limit in bytes (default BODY_LIMITS.admin). */
  bodyLimit?: number;
  /** The answers of success, by status. */
  responses: Record<number, ResponseSpec>;
  /** The problem+json answers this route can give, by status (401, 404, 429 …). */
  problems?: Record<number, string>;
  /** No authentication (e.g. the API description itself). */
  public?: boolean;
}

export interface GuardedInput<P extends Schema, Q extends Schema, B extends Schema> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

export interface Reply {
  status: number;
  body?: unknown;
}

export interface GuardedRoute {
  spec: RouteSpec;
  handle: Middleware;
}

export interface GuardOptions {
  /** Check every reply against its declared schema (development and tests). */
  checkResponses?: boolean;
  onContractBreach?: (spec: RouteSpec, status: number, error: unknown) => void;
}

const EMPTY = z.object({});

/** Each issue as an RFC 9457 `errors` member (src/http/field-errors.ts, shared with the console's forms). */
export { fieldErrors };

export interface InputOptions {
  /**
   * What a person is told when the input is refused (the page scripts show `detail`); by default
   * the zod issues themselves. The `errors` member names each field either way.
   */
  detail?: string;
}

/** Parses one part of the input against its declaration: a 400 `invalid_parameters` problem otherwise. */
export function parseDeclared<T extends Schema>(schema: T, value: unknown, where: 'path' | 'query' | 'body', { detail }: InputOptions = {}): z.output<T> {
  const result = z.safeParse(schema, value);
  if (!result.success) {
    throw new HttpError(400, 'invalid_parameters', 'Invalid parameters', detail ?? `${where}: ${z.prettifyError(result.error)}`, { extensions: { errors: fieldErrors(where, result.error) } });
  }
  return result.data;
}

/** Reads (with the one body reader) and parses a route's declared params, query and body. */
export async function guardedInput<P extends Schema, Q extends Schema, B extends Schema>(
  ctx: Context,
  spec: RouteSpec<P, Q, B>,
  options: InputOptions = {},
): Promise<GuardedInput<P, Q, B>> {
  const params = parseDeclared(spec.params ?? EMPTY, ctx.params ?? {}, 'path', options);
  const query = parseDeclared(spec.query ?? EMPTY, ctx.query, 'query', options);
  let body: unknown = {};
  if (spec.body) {
    requireJsonBody(ctx);
    const raw = await readBody(ctx, { limit: spec.bodyLimit ?? BODY_LIMITS.admin, accept: 'json' });
    if (spec.bodyRequired && Object.keys(raw).length === 0) throw new HttpError(400, 'invalid_parameters', 'Invalid parameters', 'body: a JSON body is required');
    body = parseDeclared(spec.body, raw, 'body', options);
  }
  return { params, query, body } as GuardedInput<P, Q, B>;
}

/** Writes a handler's reply, checked against the route's declared responses when asked to. */
export function sendReply(ctx: Context, spec: RouteSpec, reply: Reply, options: GuardOptions = {}): void {
  const declared = spec.responses[reply.status];
  if (options.checkResponses) {
    try {
      if (!declared) throw new Error(`status ${reply.status} is not declared`);
      if (declared.schema) z.parse(declared.schema, JSON.parse(JSON.stringify(reply.body ?? null)));
      else if (reply.body !== undefined) throw new Error(`status ${reply.status} declares no body`);
    } catch (error) {
      options.onContractBreach?.(spec, reply.status, error);
      throw new Error(`${spec.operationId}: the reply breaks its declared response (${(error as Error).message})`, { cause: error });
    }
  }
  ctx.status = reply.status;
  if (reply.body !== undefined) ctx.body = reply.body;
}

/** Declares one route: its schemas, and the handler that gets the parsed input and returns a reply. */
export function guard<P extends Schema = typeof EMPTY, Q extends Schema = typeof EMPTY, B extends Schema = typeof EMPTY>(
  spec: RouteSpec<P, Q, B>,
  handler: (ctx: Context, input: GuardedInput<P, Q, B>) => Promise<Reply>,
  options: GuardOptions = {},
): GuardedRoute {
  const handle: Middleware = async (ctx) => {
    const input = await guardedInput(ctx, spec);
    sendReply(ctx, spec as RouteSpec, await handler(ctx, input), options);
  };
  return { spec: spec as RouteSpec, handle };
}
