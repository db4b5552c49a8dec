// The auditors' part of the admin API (issue 13): search and read the audit trail, the event
// catalogue, exports (background job, progress, a download that expires), checkpoints; and the
// public audit key set auditors pin to check signatures. Registered by registerAdminApi behind the
// same guard (admin token, admin rate limits). Every route here but the exports' POST only reads:
// an `auditor` role gets all of them and nothing else of the admin API (see docs/audit.md).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { HttpError, notFound } from '../errors/http-errors.ts';
import { BODY_LIMITS, readBody } from '../http/middleware/body.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import type { Services } from '../services.ts';
import { AUDIT_EVENTS, OCSF_ACTIVITIES, OCSF_CLASSES, LEGACY_AUDIT_TYPES } from '../audit/catalogue.ts';
import { auditFilterSchema, CursorError, findAuditEvent, searchAudit } from '../audit/search.ts';
import { archivePath, exportStatus, listExports, requestExport } from '../audit/export.ts';
import { EXPORT_FORMATS } from '../audit/rows.ts';
import { auditKeySet } from '../audit/signing.ts';
import { listCheckpoints } from '../audit/checkpoints.ts';

export const auditSearchQuery = auditFilterSchema.extend({
  order: z.enum(['asc', 'desc']).default('desc').describe('asc: oldest first, for polling with `after`; desc: newest first'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.string().min(1).max(200).optional().describe('the `next` cursor of the previous page'),
});
export const exportRequestBody = z
  .object({
    format: z.enum(EXPORT_FORMATS),
    filters: auditFilterSchema.default({}),
  })
  .strict();
const idParam = z.object({ id: z.string().regex(/^\d{1,19}$/, 'an event id is a whole number') });
const exportParam = z.object({ id: z.uuid() });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, 'invalid_parameters', 'Invalid parameters', z.prettifyError(result.error));
  return result.data;
}

// The one body reader (src/http/middleware/body.ts): JSON of at most 16 KiB.
const readJson = (ctx: Context) => readBody(ctx, { limit: BODY_LIMITS.admin, accept: 'json' });

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

export function registerAuditApi(router: Router, { config, db, services, guard }: { config: Config; db: Kysely<any>; services: Services; guard: Middleware[] }): void {
  const tenantOf = (ctx: Context) => (ctx.state.tenant as TenantRuntime).tenant;
  const base = '/admin/api/audit';

  // Public: the tenant's audit-signing keys, for auditors to pin (retired keys stay listed).
  router.get('/audit/keys.json', async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = await withTenant(db, tenantOf(ctx), (trx) => auditKeySet(trx));
  });

  router.get(`${base}/catalogue`, ...guard, (ctx) => {
    ctx.body = catalogueDocument();
  });

  router.get(`${base}/events`, ...guard, async (ctx) => {
    const { order, limit, after, ...filters } = parse(auditSearchQuery, ctx.query);
    try {
      const page = await withTenant(db, tenantOf(ctx), (trx) => searchAudit(trx, { filters, order, limit, ...(after ? { after } : {}) }));
      if (page.next) {
        const url = new URL(ctx.href);
        url.searchParams.set('after', page.next);
        ctx.set('Link', `<${url.pathname}${url.search}>; rel="next"`);
      }
      ctx.body = page;
    } catch (error) {
      if (error instanceof CursorError) throw new HttpError(400, 'invalid_cursor', 'Invalid cursor', error.message);
      throw error;
    }
  });

  router.get(`${base}/events/:id`, ...guard, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    const event = await withTenant(db, tenantOf(ctx), (trx) => findAuditEvent(trx, id));
    if (!event) throw notFound(`no audit event ${id} in this tenant`);
    ctx.body = event;
  });

  router.get(`${base}/checkpoints`, ...guard, async (ctx) => {
    const { limit } = parse(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }), ctx.query);
    ctx.body = { checkpoints: await withTenant(db, tenantOf(ctx), (trx) => listCheckpoints(trx, { limit })) };
  });

  router.post(`${base}/exports`, ...guard, async (ctx) => {
    const body = parse(exportRequestBody, await readJson(ctx));
    const tenant = tenantOf(ctx);
    const actor = String(ctx.state.adminActor ?? 'admin');
    const id = await withTenant(db, tenant, (trx) =>
      requestExport(trx, { format: body.format, filters: body.filters, actor, requestFacts: { ip: ctx.ip, userAgent: ctx.get('user-agent') || null, requestId: (ctx.state.requestId as string | undefined) ?? null } }),
    );
    await services.jobs.enqueue('audit-export', { tenant: tenant.slug, exportId: id }, { jobId: `audit-export-${id}` });
    ctx.status = 202;
    ctx.set('Location', `${ctx.path}/${id}`);
    ctx.body = await withTenant(db, tenant, (trx) => exportStatus(trx, id));
  });

  router.get(`${base}/exports`, ...guard, async (ctx) => {
    ctx.body = { exports: await withTenant(db, tenantOf(ctx), (trx) => listExports(trx)) };
  });

  router.get(`${base}/exports/:id`, ...guard, async (ctx) => {
    const { id } = parse(exportParam, ctx.params);
    const status = await withTenant(db, tenantOf(ctx), (trx) => exportStatus(trx, id));
    if (!status) throw notFound(`no export ${id} in this tenant`);
    ctx.body = status;
  });

  router.get(`${base}/exports/:id/download`, ...guard, async (ctx) => {
    const { id } = parse(exportParam, ctx.params);
    const tenant = tenantOf(ctx);
    const status = await withTenant(db, tenant, (trx) => exportStatus(trx, id));
    if (!status) throw notFound(`no export ${id} in this tenant`);
    if (status.status === 'expired') throw new HttpError(410, 'export_expired', 'Export expired', `This export could be downloaded until ${status.expires_at}; request a new one.`);
    if (status.status !== 'done') throw new HttpError(409, 'export_not_ready', 'Export not ready', `The export is ${status.status}${status.progress !== null ? ` (${status.progress} %)` : ''}; poll ${ctx.path.replace(/\/download$/, '')} until it is done.`);
    const file = archivePath(config.audit.exportDir, tenant.slug, id);
    const info = await stat(file).catch(() => null);
    if (!info) throw new HttpError(410, 'export_gone', 'Export gone', 'The archive is no longer on this server (removed or on another node\'s disk); request a new one.');
    ctx.set('Content-Type', 'application/x-tar');
    ctx.set('Content-Disposition', `attachment; filename="${status.file_name}"`);
    ctx.set('Content-Length', String(info.size));
    ctx.set('Cache-Control', 'no-store');
    if (status.sha256) ctx.set('Repr-Digest', `sha-256=:${Buffer.from(status.sha256, 'hex').toString('base64')}:`);
    ctx.body = createReadStream(file);
  });
}
