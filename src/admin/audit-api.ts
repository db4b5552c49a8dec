// The auditors' part of the admin API (issue 13): search and read the audit trail, the event
// catalogue, exports (background job, progress, a download that expires), checkpoints; and the
// public audit key set auditors pin to check signatures. Declared with the route guard (so the
// OpenAPI document describes them) and mounted by registerAdminApi behind the same middleware
// (admin token or console session, admin rate limits). Every route here but the exports' POST only
// reads: the `auditor` role may call all of them (src/admin/permissions.ts; docs/audit.md).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';
import type { RootDb } from '../db/client.ts';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { HttpError, notFound } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import type { Services } from '../services.ts';
import { AUDIT_EVENTS, OCSF_ACTIVITIES, OCSF_CLASSES, LEGACY_AUDIT_TYPES } from '../audit/catalogue.ts';
import { auditFilterSchema, CursorError, findAuditEvent, searchAudit } from '../audit/search.ts';
import { archivePath, exportStatus, listExports, requestExport } from '../audit/export.ts';
import { EXPORT_FORMATS } from '../audit/rows.ts';
import { auditKeySet } from '../audit/signing.ts';
import { listCheckpoints } from '../audit/checkpoints.ts';

/** The public half of an audit-signing key (RFC 7517 JWK, ES256 / P-256). */
const auditPublicJwk = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().min(1),
  y: z.string().min(1),
  kid: z.string().min(1),
  alg: z.literal('ES256'),
  use: z.literal('sig'),
}).refine((jwk) => !('d' in jwk), 'a published key must not carry its private part (d)');

/**
 * GET /t/<slug>/audit/keys.json: the tenant's audit-signing keys for auditors to pin (retired keys
 * stay listed: old exports and checkpoints still verify). Public and outside /admin/api, like the
 * provider's JWKS, so not part of the admin API's OpenAPI document; declared with the route guard
 * all the same (its answer is checked against the schema in development and tests).
 */
export const AUDIT_KEYS_ROUTE = {
  method: 'get',
  path: '/audit/keys.json',
  operationId: 'getAuditKeySet',
  summary: "The tenant's audit-signing key set (JWKS), active and retired keys",
  tags: ['audit'],
  public: true,
  responses: { 200: { description: 'An RFC 7517 JWK Set.', schema: z.object({ keys: z.array(auditPublicJwk) }) } },
} satisfies RouteSpec;

export const auditSearchQuery = auditFilterSchema.extend({
  order: z.enum(['asc', 'desc']).default('desc').describe('asc: oldest first, for polling with `after`; desc: newest first'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.string().min(1).max(200).optional().describe('The `next` cursor of the previous page (same filters and order).'),
});
export const exportRequestBody = z
  .object({
    format: z.enum(EXPORT_FORMATS),
    filters: auditFilterSchema.default({}),
  })
  .strict();
const idParam = z.object({ id: z.string().regex(/^\d{1,19}$/, 'an event id is a whole number').describe('The event id (chain order).') });
const exportParam = z.object({ id: z.uuid().describe('The export id.') });

const auditRow = z.object({
  id: z.string(),
  at: z.string(),
  type: z.string(),
  actor: z.string().nullable(),
  subject: z.string().nullable(),
  client_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});
const eventPage = z.object({
  events: z.array(auditRow.extend({ category: z.string().nullable(), outcome: z.string().nullable() })),
  next: z.string().nullable().describe('The cursor for the next page; with order=asc always present (poll with it).'),
});
const exportStatusSchema = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'done', 'failed', 'expired']),
  format: z.enum(EXPORT_FORMATS),
  filters: z.record(z.string(), z.unknown()),
  requested_by: z.string().nullable(),
  rows_total: z.number().nullable(),
  rows_written: z.number(),
  progress: z.number().nullable().describe('Percent done, when known.'),
  bytes: z.number().nullable(),
  sha256: z.string().nullable().describe('SHA-256 of the archive.'),
  error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  file_name: z.string().nullable(),
});
const catalogueSchema = z.object({
  events: z.array(
    z.object({
      type: z.string(),
      summary: z.string(),
      category: z.string(),
      outcome: z.string(),
      ocsf: z.object({ class_uid: z.number(), class_name: z.string(), activity_id: z.number(), activity_name: z.string() }),
      fields: z.record(z.string(), z.string()),
    }),
  ),
  legacy_types: z.record(z.string(), z.string()),
});
const checkpointList = z.object({
  checkpoints: z.array(z.object({ seq: z.number(), event_id: z.string(), event_hash: z.string(), reason: z.string(), created_at: z.string(), jws: z.string() })),
});

const AUTH_PROBLEMS = {
  401: 'No or a wrong admin bearer token, or no console session.',
  403: 'The console role may not call this route.',
  429: 'Too many admin API requests from this address (Retry-After).',
} as const;

/** The audit routes, declared (paths relative to /t/<slug>/admin/api). */
export const AUDIT_ROUTES = {
  catalogue: {
    method: 'get',
    path: '/audit/catalogue',
    operationId: 'getAuditCatalogue',
    summary: 'Every audit event type: fields, outcome, OCSF class and activity',
    tags: ['audit'],
    responses: { 200: { description: 'The catalogue.', schema: catalogueSchema } },
    problems: AUTH_PROBLEMS,
  },
  searchEvents: {
    method: 'get',
    path: '/audit/events',
    operationId: 'searchAuditEvents',
    summary: 'Search the audit trail (filters; opaque keyset cursor stable under concurrent appends)',
    tags: ['audit'],
    query: auditSearchQuery,
    responses: { 200: { description: 'One page of events (Link: rel="next" too).', schema: eventPage } },
    problems: { 400: 'Invalid filters (invalid_parameters) or a cursor issued for other filters (invalid_cursor).', ...AUTH_PROBLEMS },
  },
  getEvent: {
    method: 'get',
    path: '/audit/events/:id',
    operationId: 'getAuditEvent',
    summary: 'One audit event, raw, with its chain hashes',
    tags: ['audit'],
    params: idParam,
    responses: { 200: { description: 'The event.', schema: auditRow } },
    problems: { 400: 'Not an event id.', 404: 'No such event.', ...AUTH_PROBLEMS },
  },
  checkpoints: {
    method: 'get',
    path: '/audit/checkpoints',
    operationId: 'listAuditCheckpoints',
    summary: 'Signed checkpoints of the chain head, newest first',
    tags: ['audit'],
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    responses: { 200: { description: 'Checkpoints (compact JWS each).', schema: checkpointList } },
    problems: AUTH_PROBLEMS,
  },
  requestExport: {
    method: 'post',
    path: '/audit/exports',
    operationId: 'requestAuditExport',
    summary: 'Start an export (JSON Lines, CSV or OCSF JSON) as a background job',
    tags: ['audit'],
    body: exportRequestBody,
    bodyRequired: true,
    responses: { 202: { description: 'Queued; poll the export (Location header).', schema: exportStatusSchema } },
    problems: { 400: 'Invalid format or filters.', 413: 'The body is over 16 KiB.', 415: 'The body is not JSON.', ...AUTH_PROBLEMS },
  },
  listExports: {
    method: 'get',
    path: '/audit/exports',
    operationId: 'listAuditExports',
    summary: 'Recent exports and their progress',
    tags: ['audit'],
    responses: { 200: { description: 'Exports, newest first.', schema: z.object({ exports: z.array(exportStatusSchema) }) } },
    problems: AUTH_PROBLEMS,
  },
  getExport: {
    method: 'get',
    path: '/audit/exports/:id',
    operationId: 'getAuditExport',
    summary: 'One export: status, progress, expiry',
    tags: ['audit'],
    params: exportParam,
    responses: { 200: { description: 'The export.', schema: exportStatusSchema } },
    problems: { 400: 'Not an export id.', 404: 'No such export in this tenant.', ...AUTH_PROBLEMS },
  },
  downloadExport: {
    method: 'get',
    path: '/audit/exports/:id/download',
    operationId: 'downloadAuditExport',
    summary: 'The export archive (application/x-tar: manifest.jws, the data file, keys.json)',
    tags: ['audit'],
    params: exportParam,
    responses: { 200: { description: 'The archive (binary; not JSON).' } },
    problems: { 400: 'Not an export id.', 404: 'No such export in this tenant.', 409: 'Not done yet (export_not_ready).', 410: 'Expired or removed (export_expired, export_gone).', ...AUTH_PROBLEMS },
  },
} satisfies Record<string, RouteSpec>;

/** The catalogue as auditors and the console read it. */
export function catalogueDocument() {
  return {
    events: Object.entries(AUDIT_EVENTS).map(([type, entry]) => ({
      type,
      summary: entry.summary,
      category: OCSF_CLASSES[entry.ocsf.classUid].category,
      outcome: entry.outcome,
      ocsf: { class_uid: entry.ocsf.classUid, class_name: OCSF_CLASSES[entry.ocsf.classUid].name, activity_id: entry.ocsf.activityId, activity_name: OCSF_ACTIVITIES[entry.ocsf.classUid][entry.ocsf.activityId] },
      fields: entry.fields,
    })),
    legacy_types: LEGACY_AUDIT_TYPES,
  };
}

export function registerAuditApi(router: Router, { config, db, services, guard, checkResponses }: { config: Config; db: RootDb; services: Services; guard: Middleware[]; checkResponses: boolean }): void {
  const tenantOf = (ctx: Context) => (ctx.state.tenant as TenantRuntime).tenant;
  const options = { checkResponses };
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`/admin/api${spec.path}`, ...guard, handle);

  // Public, outside /admin/api (no token, no admin rate limit): the key set auditors pin.
  const keySet = route(
    AUDIT_KEYS_ROUTE,
    async (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      return { status: 200, body: await withTenant(db, tenantOf(ctx), (trx) => auditKeySet(trx)) };
    },
    options,
  );
  router.get(keySet.spec.path, keySet.handle);

  mount(route(AUDIT_ROUTES.catalogue, async () => ({ status: 200, body: catalogueDocument() }), options));

  mount(
    route(
      AUDIT_ROUTES.searchEvents,
      async (ctx, { query: { order, limit, after, ...filters } }) => {
        try {
          const page = await withTenant(db, tenantOf(ctx), (trx) => searchAudit(trx, { filters, order, limit, ...(after ? { after } : {}) }));
          if (page.next) {
            const url = new URL(ctx.href);
            url.searchParams.set('after', page.next);
            ctx.set('Link', `<${url.pathname}${url.search}>; rel="next"`);
          }
          return { status: 200, body: page };
        } catch (error) {
          if (error instanceof CursorError) throw new HttpError(400, 'invalid_cursor', 'Invalid cursor', error.message);
          throw error;
        }
      },
      options,
    ),
  );

  mount(
    route(
      AUDIT_ROUTES.getEvent,
      async (ctx, { params: { id } }) => {
        const event = await withTenant(db, tenantOf(ctx), (trx) => findAuditEvent(trx, id));
        if (!event) throw notFound(`no audit event ${id} in this tenant`);
        return { status: 200, body: event };
      },
      options,
    ),
  );

  mount(route(AUDIT_ROUTES.checkpoints, async (ctx, { query: { limit } }) => ({ status: 200, body: { checkpoints: await withTenant(db, tenantOf(ctx), (trx) => listCheckpoints(trx, { limit })) } }), options));

  mount(
    route(
      AUDIT_ROUTES.requestExport,
      async (ctx, { body }) => {
        const tenant = tenantOf(ctx);
        const actor = String(ctx.state.adminActor ?? 'admin');
        const id = await withTenant(db, tenant, (trx) =>
          requestExport(trx, { format: body.format, filters: body.filters, actor, requestFacts: { ip: ctx.ip, userAgent: ctx.get('user-agent') || null, requestId: (ctx.state.requestId as string | undefined) ?? null } }),
        );
        await services.jobs.enqueue('audit-export', { tenant: tenant.slug, exportId: id }, { jobId: `audit-export-${id}` });
        ctx.set('Location', `${ctx.path}/${id}`);
        return { status: 202, body: await withTenant(db, tenant, (trx) => exportStatus(trx, id)) };
      },
      options,
    ),
  );

  mount(route(AUDIT_ROUTES.listExports, async (ctx) => ({ status: 200, body: { exports: await withTenant(db, tenantOf(ctx), (trx) => listExports(trx)) } }), options));

  mount(
    route(
      AUDIT_ROUTES.getExport,
      async (ctx, { params: { id } }) => {
        const status = await withTenant(db, tenantOf(ctx), (trx) => exportStatus(trx, id));
        if (!status) throw notFound(`no export ${id} in this tenant`);
        return { status: 200, body: status };
      },
      options,
    ),
  );

  mount(
    route(
      AUDIT_ROUTES.downloadExport,
      async (ctx, { params: { id } }) => {
        const tenant = tenantOf(ctx);
        const status = await withTenant(db, tenant, (trx) => exportStatus(trx, id));
        if (!status) throw notFound(`no export ${id} in this tenant`);
        if (status.status === 'expired') throw new HttpError(410, 'export_expired', 'Export expired', `This export could be downloaded until ${status.expires_at}; request a new one.`);
        if (status.status !== 'done') {
          throw new HttpError(409, 'export_not_ready', 'Export not ready', `The export is ${status.status}${status.progress !== null ? ` (${status.progress} %)` : ''}; poll ${ctx.path.replace(/\/download$/, '')} until it is done.`);
        }
        const file = archivePath(config.audit.exportDir, tenant.slug, id);
        const info = await stat(file).catch(() => null);
        if (!info) throw new HttpError(410, 'export_gone', 'Export gone', "The archive is no longer on this server (removed, or on another node's disk); request a new one.");
        ctx.set('Content-Type', 'application/x-tar');
        ctx.set('Content-Disposition', `attachment; filename="${status.file_name}"`);
        ctx.set('Content-Length', String(info.size));
        ctx.set('Cache-Control', 'no-store');
        if (status.sha256) ctx.set('Repr-Digest', `sha-256=:${Buffer.from(status.sha256, 'hex').toString('base64')}:`);
        // The archive is streamed, not a JSON reply: the guard sets the status and leaves the body.
        ctx.body = createReadStream(file);
        return { status: 200 };
      },
      options,
    ),
  );
}
