// The housekeeping jobs Facet runs. Each one walks every tenant and brings state to a target
// ("no expired records", "no key past its overlap"), so running twice is harmless.
import { withTenant } from '../db/tenant-scope.ts';
import { listTenants, bumpConfigVersion } from '../tenancy/registry.ts';
import { purgeExpiredRecords } from '../oidc/adapter.ts';
import { purgeExpiredSignInState } from '../accounts/housekeeping.ts';
import { purgeFailedAttempts } from '../lockout/index.ts';
import { retireExpiredKeys } from '../keys/signing-keys.ts';
import { appendAudit, verifyAuditChain } from '../audit/audit-log.ts';
import type { JobDefinitions } from './types.ts';
import type { AuditSettings } from '../audit/settings.ts';
import { checkpointTenant, deliveryFailureMessage, deliverWithRetry, directorySink, httpSink, type CheckpointSink } from '../audit/checkpoints.ts';
import { purgeExpiredExports, runExport } from '../audit/export.ts';
import { applyRetention } from '../audit/retention.ts';
import { findTenant } from '../tenancy/registry.ts';
import type { RootDb } from '../db/client.ts';

export interface AuditJobOptions {
  kek: string;
  publicUrl: string;
  settings: AuditSettings;
  /** First retry delay of checkpoint delivery (default CHECKPOINT_DELIVERY.backoffMs); doubles each attempt. */
  checkpointBackoffMs?: number;
}

export function checkpointSinks(settings: AuditSettings): CheckpointSink[] {
  return [...(settings.checkpointDir ? [directorySink(settings.checkpointDir)] : []), ...(settings.checkpointUrl ? [httpSink(settings.checkpointUrl, { token: settings.checkpointToken })] : [])];
}

/** Exports, checkpoints and expired-export removal (issue 13): docs/audit.md. */
function auditJobs(db: RootDb, { kek, publicUrl, settings, checkpointBackoffMs = CHECKPOINT_DELIVERY.backoffMs }: AuditJobOptions): JobDefinitions {
  const sinks = checkpointSinks(settings);
  return {
    'audit-export': {
      attempts: 2,
      async handler({ data, progress, log }) {
        const tenant = await findTenant(db, String(data.tenant));
        if (!tenant) throw new Error(`no tenant ${String(data.tenant)}`);
        const result = await runExport(db, tenant, String(data.exportId), { kek, publicUrl, dir: settings.exportDir, ttlMs: settings.exportTtlMs, sinks, progress });
        log.info({ tenant: tenant.slug, exportId: data.exportId, ...result }, 'audit export written');
        // The export's checkpoint, if a sink refused it: a bounded retry here (the export itself is
        // done and is not run again); what still fails waits for the audit-checkpoint job.
        if (sinks.length > 0) {
          const delivery = await deliverWithRetry(db, tenant, sinks, { attempts: CHECKPOINT_DELIVERY.inlineAttempts, backoffMs: checkpointBackoffMs });
          if (delivery.failures.length > 0) log.warn({ failures: delivery.failures }, 'audit checkpoint not delivered to a sink yet; the audit-checkpoint job retries it');
        }
        return result;
      },
    },
    'audit-checkpoint': {
      every: settings.checkpointEveryMs,
      // A sink that fails makes the run fail after every tenant was checkpointed, so the runner
      // retries it with exponential back-off (BullMQ with Redis, in-process without); each attempt
      // delivers whatever each sink has not received, and the next scheduled run does too.
      attempts: CHECKPOINT_DELIVERY.jobAttempts,
      backoff: checkpointBackoffMs,
      async handler({ log, attempt }) {
        const made: Record<string, number> = {};
        const failed: string[] = [];
        for (const tenant of await listTenants(db)) {
          const checkpoint = await checkpointTenant(db, tenant, {
            kek,
            issuer: `${publicUrl}/t/${tenant.slug}`,
            reason: 'scheduled',
            skipIfUnchanged: true,
            sinks,
            final: attempt >= CHECKPOINT_DELIVERY.jobAttempts,
          });
          if (checkpoint.created) made[tenant.slug] = checkpoint.seq;
          if (checkpoint.delivery.failures.length > 0) failed.push(deliveryFailureMessage(tenant.slug, checkpoint.delivery.failures));
        }
        log.info({ made }, 'audit chain heads signed');
        if (failed.length > 0) throw new Error(failed.join(' | '));
        return { made };
      },
    },
    'purge-audit-events': {
      every: 24 * 60 * MINUTE,
      attempts: 1,
      async handler({ log }) {
        const removed: Record<string, number> = {};
        for (const tenant of await listTenants(db)) {
          const result = await applyRetention(db, tenant, { kek, issuer: `${publicUrl}/t/${tenant.slug}` });
          if (result.removed > 0) removed[tenant.slug] = result.removed;
        }
        log.info({ removed }, 'audit rows past retention removed behind signed checkpoints');
        return { removed };
      },
    },
    'purge-audit-exports': {
      every: 60 * MINUTE,
      async handler({ log }) {
        let removed = 0;
        for (const tenant of await listTenants(db)) removed += await purgeExpiredExports(db, tenant, settings.exportDir);
        log.info({ removed }, 'expired audit exports removed');
        return { removed };
      },
    },
  };
}

const MINUTE = 60_000;

/** Retrying checkpoint delivery to the sinks (docs/audit.md, section 3). */
export const CHECKPOINT_DELIVERY = { jobAttempts: 5, inlineAttempts: 3, backoffMs: 5000 } as const;

export function facetJobs({ db, failedAttemptRetentionDays = 30, audit }: { db: RootDb; failedAttemptRetentionDays?: number; audit?: AuditJobOptions }): JobDefinitions {
  return {
    ...(audit ? auditJobs(db, audit) : {}),
    'purge-oidc-records': {
      every: 15 * MINUTE,
      async handler({ progress, log }) {
        const tenants = await listTenants(db);
        let removed = 0;
        for (const [index, tenant] of tenants.entries()) {
          removed += await purgeExpiredRecords(db, tenant);
          // Challenges, pending sign-in steps and account-page sessions past their lifetime.
          await withTenant(db, tenant, (trx) => purgeExpiredSignInState(trx));
          await progress(Math.round(((index + 1) / tenants.length) * 100));
        }
        log.info({ tenants: tenants.length, removed }, 'expired OIDC records purged');
        return { removed };
      },
    },
    'purge-failed-attempts': {
      every: 60 * MINUTE,
      async handler({ log }) {
        let removed = 0;
        for (const tenant of await listTenants(db)) {
          removed += await withTenant(db, tenant, (trx) => purgeFailedAttempts(trx, { olderThan: failedAttemptRetentionDays * 24 * 3600 * 1000 }));
        }
        log.info({ removed, retentionDays: failedAttemptRetentionDays }, 'failed attempts past retention purged');
        return { removed };
      },
    },
    'retire-signing-keys': {
      every: 60 * MINUTE,
      async handler({ log }) {
        const retired: Record<string, string[]> = {};
        for (const tenant of await listTenants(db)) {
          const kids = await withTenant(db, tenant, async (trx) => {
            const done = await retireExpiredKeys(trx);
            if (done.length > 0) await appendAudit(trx, { type: 'keys.retired', actor: 'job', data: { kids: done } });
            return done;
          });
          if (kids.length > 0) {
            retired[tenant.slug] = kids;
            await bumpConfigVersion(db, tenant.slug);
          }
        }
        log.info({ retired }, 'signing keys past their overlap retired');
        return { retired };
      },
    },
    'verify-audit-chains': {
      every: 6 * 60 * MINUTE,
      attempts: 1,
      async handler({ log }) {
        const broken: Array<{ tenant: string; firstBrokenId: string; reason: string }> = [];
        for (const tenant of await listTenants(db)) {
          const verdict = await withTenant(db, tenant, (trx) => verifyAuditChain(trx));
          if (!verdict.ok) broken.push({ tenant: tenant.slug, firstBrokenId: verdict.firstBrokenId, reason: verdict.reason });
        }
        if (broken.length > 0) log.error({ broken }, 'AUDIT CHAIN BROKEN');
        else log.info({}, 'audit chains verified');
        return { broken };
      },
    },
  };
}
