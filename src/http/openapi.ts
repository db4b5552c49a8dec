// An OpenAPI 3.1 document built from guarded routes (src/http/middleware/guard.ts): paths,
// parameters, bodies and responses come from the routes' zod schemas (z.toJSONSchema, JSON Schema
// 2020-12, the dialect of OpenAPI 3.1); errors are the problem+json of RFC 9457.
import { z } from 'zod';
import type { RouteSpec } from './middleware/guard.ts';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.core.$ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (object.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

export const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is the stable reason.',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    request_id: { type: 'string' },
    retry_after: { type: 'integer', description: 'Seconds, as in Retry-After (429 and 503).' },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
};

export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
  /** The API's base URL (route paths are relative to it). */
  serverUrl: string;
  routes: RouteSpec[];
  /** Name of the bearer security scheme every non-public route requires. */
  bearer?: { name: string; description: string };
}

const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function openApiDocument({ title, version, description, serverUrl, routes, bearer }: OpenApiOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } } : {}),
      };
    }
    for (const [status, what] of Object.entries(route.problems ?? {})) {
      responses[status] = {
        description: what,
        ...(status === '429' || status === '503' ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer', minimum: 1 } } } } : {}),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.tags ? { tags: route.tags } : {}),
      ...(route.public ? { security: [] } : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body
        ? { requestBody: { required: route.bodyRequired ?? false, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }
        : {}),
      responses,
    };
    (paths[openApiPath(route.path)] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title, version, ...(description ? { description } : {}) },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA },
      ...(bearer ? { securitySchemes: { [bearer.name]: { type: 'http', scheme: 'bearer', description: bearer.description } } } : {}),
    },
    ...(bearer ? { security: [{ [bearer.name]: [] }] } : {}),
  };
}
