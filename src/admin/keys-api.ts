// The admin API's signing keys (issue 12), declared with the route guard: list the tenant's signing
// keys (algorithm, status, dates) and rotate them (sensitive: a fresh step-up in the console;
// audited). Applications (clients) are in ./clients-api.ts.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { retireKeyEarly, rotateKeys } from '../keys/signing-keys.ts';
import { HttpError, notFound } from '../errors/http-errors.ts';
import { listSigningKeys } from '../db/queries/signing-keys.ts';
import { listAuditKeys, rotateAuditKey } from '../audit/signing.ts';
import { bumpConfigVersion } from '../tenancy/registry.ts';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';

type Db = Parameters<typeof withTenant>[0];
const timestamp = z.iso.datetime();

const AUTH_PROBLEMS = {
  401: 'No or a wrong admin bearer token, or no console session.',
  403: 'The console role may not call this route (role_forbidden), or a sensitive route needs a fresh step-up (step_up_required, with `redirect`).',
  404: 'This tenant has no admin API token configured.',
  429: 'Too many admin API requests from this address (Retry-After).',
} as const;

const keyRow = z.object({ kid: z.string(), alg: z.string(), status: z.enum(['active', 'retiring', 'retired']), createdAt: timestamp, retireAt: timestamp.nullable() });
const auditKeyRow = z.object({ kid: z.string(), status: z.enum(['active', 'retired']), created_at: timestamp });
export const KEY_ROUTES = {
  listKeys: {
    method: 'get',
    path: '/keys',
    operationId: 'listSigningKeys',
    summary: "The tenant's token signing keys: algorithm, status (active signs; retiring still verifies; retired is gone), dates",
    tags: ['keys'],
    responses: { 200: { description: 'The keys, newest first.', schema: z.object({ keys: z.array(keyRow), overlapSeconds: z.number().int() }) } },
    problems: AUTH_PROBLEMS,
  },
  rotateKeys: {
    method: 'post',
    path: '/keys/rotate',
    operationId: 'rotateSigningKeys',
    summary: 'Add new ES256 and RS256 keys; the old ones keep verifying for the overlap (sensitive; audited)',
    tags: ['keys'],
    responses: { 200: { description: 'What changed.', schema: z.object({ created: z.array(z.string()), retiring: z.array(z.string()), retired: z.array(z.string()) }) } },
    problems: AUTH_PROBLEMS,
  },
  retireKey: {
    method: 'post',
    path: '/keys/:kid/retire',
    operationId: 'retireSigningKey',
    summary: 'Retire a key still in its overlap now instead of at its retire time: tokens it signed stop verifying at once (sensitive; audited)',
    tags: ['keys'],
    params: z.object({ kid: z.string().min(1).max(200) }),
    responses: { 200: { description: 'The key is retired.', schema: z.object({ retired: z.string() }) } },
    problems: { ...AUTH_PROBLEMS, 404: 'No such key in this tenant (not_found).', 409: 'The key is active (it signs: rotate first) or already retired (key_active, key_retired).' },
  },
  listAuditKeys: {
    method: 'get',
    path: '/keys/audit-signing',
    operationId: 'listAuditSigningKeys',
    summary: "The tenant's audit-signing keys (ES256; sign export manifests and checkpoints): the active one signs, retired ones stay published at /audit/keys.json",
    tags: ['keys', 'audit'],
    responses: { 200: { description: 'The keys, newest first.', schema: z.object({ keys: z.array(auditKeyRow) }) } },
    problems: AUTH_PROBLEMS,
  },
  rotateAuditKey: {
    method: 'post',
    path: '/keys/audit-signing/rotate',
    operationId: 'rotateAuditSigningKey',
    summary: 'Give the tenant a new audit-signing key; the old one stops signing but stays published so old exports and checkpoints verify (sensitive; audited)',
    tags: ['keys', 'audit'],
    responses: { 200: { description: 'The new key and the keys it retired.', schema: z.object({ created: z.string(), retired: z.array(z.string()) }) } },
    problems: AUTH_PROBLEMS,
  },
} satisfies Record<string, RouteSpec>;

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export function registerKeysApi(router: Router, { config, db, guard, checkResponses }: { config: Config; db: Db; guard: Middleware[]; checkResponses: boolean }): void {
  const runtimeOf = (ctx: Context) => ctx.state.tenant as TenantRuntime;
  const options = { checkResponses };
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`/admin/api${spec.path}`, ...guard, handle);

  mount(
    route(
      KEY_ROUTES.listKeys,
      async (ctx) => {
        const keys = await withTenant(db, runtimeOf(ctx).tenant, (trx) => listSigningKeys(trx));
        return {
          status: 200,
          body: {
            keys: keys.map((k) => ({ ...k, createdAt: iso(k.createdAt)!, retireAt: iso(k.retireAt) })),
            overlapSeconds: config.keyOverlapSeconds,
          },
        };
      },
      options,
    ),
  );

  mount(
    route(
      KEY_ROUTES.rotateKeys,
      async (ctx) => {
        const tenant = runtimeOf(ctx).tenant;
        const result = await withTenant(db, tenant, async (trx) => {
          const rotated = await rotateKeys(trx, { kek: config.kek, slug: tenant.slug, overlapSeconds: config.keyOverlapSeconds });
          await appendAudit(trx, { type: 'keys.rotated', actor: String(ctx.state.adminActor ?? 'admin'), ip: ctx.ip, userAgent: ctx.get('user-agent') || null, data: rotated });
          return rotated;
        });
        // Every node reloads the tenant (and its JWKS) on the next request.
        await bumpConfigVersion(db, tenant.slug);
        return { status: 200, body: result };
      },
      options,
    ),
  );

  mount(
    route(
      KEY_ROUTES.retireKey,
      async (ctx, { params: { kid } }) => {
        const tenant = runtimeOf(ctx).tenant;
        await withTenant(db, tenant, async (trx) => {
          const outcome = await retireKeyEarly(trx, kid);
          if (!outcome) throw notFound(`no signing key ${kid} in this tenant`);
          if (outcome.status === 'active') throw new HttpError(409, 'key_active', 'Conflict', `${kid} is an active key: it signs new tokens. Rotate the keys first; the old ones can then be retired early.`);
          if (outcome.status === 'was_retired') throw new HttpError(409, 'key_retired', 'Conflict', `${kid} is retired already.`);
          await appendAudit(trx, { type: 'keys.retired_early', actor: String(ctx.state.adminActor ?? 'admin'), ip: ctx.ip, userAgent: ctx.get('user-agent') || null, data: { kid } });
        });
        // Every node reloads the tenant's JWKS on its next request.
        await bumpConfigVersion(db, tenant.slug);
        return { status: 200, body: { retired: kid } };
      },
      options,
    ),
  );

  mount(route(KEY_ROUTES.listAuditKeys, async (ctx) => ({ status: 200, body: { keys: await withTenant(db, runtimeOf(ctx).tenant, (trx) => listAuditKeys(trx)) } }), options));

  mount(
    route(
      KEY_ROUTES.rotateAuditKey,
      async (ctx) => {
        const tenant = runtimeOf(ctx).tenant;
        const result = await withTenant(db, tenant, (trx) =>
          rotateAuditKey(trx, { kek: config.kek, slug: tenant.slug, actor: String(ctx.state.adminActor ?? 'admin'), ip: ctx.ip, userAgent: ctx.get('user-agent') || null }),
        );
        return { status: 200, body: result };
      },
      options,
    ),
  );
}
