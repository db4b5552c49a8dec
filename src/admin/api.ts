// The tenant admin JSON API (problem+json errors): security activity, lockouts, account actions.
// Mounted at /t/<slug>/admin/api/…, behind the tenant's admin token and the `admin` rate limits.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { HttpError, notFound } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import type { Services } from '../services.ts';
import { lockedAccounts, recentFailedAttempts, suspiciousActivity, unlock } from '../lockout/index.ts';
import { appendAudit, verifyAuditChain } from '../audit/audit-log.ts';
import { findLiveUserById } from '../accounts/users.ts';
import { restoreAccount, revokeSessionsAndGrants, softDeleteAccount } from '../accounts/lifecycle.ts';
import { endFamiliesForAccount } from '../refresh/families.ts';
import { clientIp } from '../ratelimit/index.ts';
import { requireAdminToken } from './auth.ts';
import { BODY_LIMITS, readBody } from '../http/middleware/body.ts';
import { rateLimit } from '../http/middleware/rate-limit.ts';
import { FACTOR_NAMES } from '../factors/names.ts';
import { backchannelTargetsOf, sendBackchannelLogouts, type LogoutTarget } from '../oidc/backchannel-logout.ts';

const windowQuery = z.object({
  hours: z.coerce.number().int().min(1).max(24 * 30).default(24),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  threshold: z.coerce.number().int().min(1).max(100000).default(20),
});
const userParams = z.object({ id: z.uuid() });
// The factor names of the one vocabulary: the same names the flows lock under.
const unlockBody = z.object({ factor: z.enum(FACTOR_NAMES).optional() }).strict();

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, 'invalid_parameters', 'Invalid parameters', z.prettifyError(result.error));
  return result.data;
}

const readJson = (ctx: Context) => readBody(ctx, { limit: BODY_LIMITS.admin, accept: 'json' });

export function registerAdminApi(router: Router, { config, db, services }: { config: Config; db: Kysely<any>; services: Services }): void {
  const tenantOf = (ctx: Context) => (ctx.state.tenant as TenantRuntime).tenant;
  const guard = [rateLimit(services.limits, 'admin.ip', (ctx) => clientIp(ctx, { trustProxy: config.trustProxy })), requireAdminToken(config)];
  const base = '/admin/api';

  router.get(`${base}/failed-attempts`, ...guard, async (ctx) => {
    const { hours, limit } = parse(windowQuery, ctx.query);
    ctx.body = { hours, attempts: await withTenant(db, tenantOf(ctx), (trx) => recentFailedAttempts(trx, { hours, limit })) };
  });
  router.get(`${base}/suspicious`, ...guard, async (ctx) => {
    const { hours, threshold } = parse(windowQuery, ctx.query);
    ctx.body = { hours, threshold, ...(await withTenant(db, tenantOf(ctx), (trx) => suspiciousActivity(trx, { hours, threshold }))) };
  });
  router.get(`${base}/locked`, ...guard, async (ctx) => {
    ctx.body = { locked: await withTenant(db, tenantOf(ctx), (trx) => lockedAccounts(trx)) };
  });
  router.get(`${base}/audit/verify`, ...guard, async (ctx) => {
    ctx.body = await withTenant(db, tenantOf(ctx), (trx) => verifyAuditChain(trx));
  });

  const withUser = async <T>(ctx: Context, work: (trx: Parameters<Parameters<typeof withTenant>[2]>[0], id: string) => Promise<T>, { live = true } = {}) => {
    const { id } = parse(userParams, ctx.params);
    return withTenant(db, tenantOf(ctx), async (trx) => {
      if (live && !(await findLiveUserById(trx, id))) throw notFound(`no user ${id} in this tenant`);
      return work(trx, id);
    });
  };

  router.post(`${base}/users/:id/unlock`, ...guard, async (ctx) => {
    const { factor } = parse(unlockBody, await readJson(ctx));
    const events = await withUser(ctx, async (trx, id) => {
      const unlocked = await unlock(trx, { userId: id, ...(factor ? { factor } : {}), actor: ctx.state.adminActor });
      for (const event of unlocked) await appendAudit(trx, { ...event, actor: ctx.state.adminActor });
      return unlocked;
    });
    ctx.body = { unlocked: events.map((e) => e.data.factor) };
  });
  // Relying parties with a backchannel_logout_uri hear of the sessions ended here, once the
  // transaction that ended them has committed.
  const notifyRelyingParties = (ctx: Context, targets: LogoutTarget[]) =>
    sendBackchannelLogouts((ctx.state.tenant as TenantRuntime).provider, targets, (err, target) =>
      (ctx.state.log as { warn?: (o: object, m: string) => void } | undefined)?.warn?.({ err, clientId: target.clientId }, 'back-channel logout not delivered'),
    );
  router.post(`${base}/users/:id/sign-out`, ...guard, async (ctx) => {
    const { body, targets } = await withUser(ctx, async (trx, id) => {
      const targets = await backchannelTargetsOf(trx, id);
      const families = await endFamiliesForAccount(trx, id, 'admin_revoked');
      const revoked = await revokeSessionsAndGrants(trx, id);
      await appendAudit(trx, { type: 'account.signed_out_everywhere', actor: ctx.state.adminActor, subject: id, data: { families_ended: families, ...revoked } });
      return { body: { families_ended: families, ...revoked }, targets };
    });
    await notifyRelyingParties(ctx, targets);
    ctx.body = body;
  });
  router.delete(`${base}/users/:id`, ...guard, async (ctx) => {
    const targets = await withUser(ctx, async (trx, id) => {
      const targets = await backchannelTargetsOf(trx, id);
      await softDeleteAccount(trx, id, new Date(), { actor: ctx.state.adminActor });
      return targets;
    });
    await notifyRelyingParties(ctx, targets);
    ctx.status = 204;
  });
  router.post(`${base}/users/:id/restore`, ...guard, async (ctx) => {
    const restored = await withUser(ctx, (trx, id) => restoreAccount(trx, id, { actor: ctx.state.adminActor }), { live: false });
    if (!restored) throw notFound('no deleted user with that id');
    ctx.status = 204;
  });
}
