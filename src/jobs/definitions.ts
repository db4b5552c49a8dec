// The housekeeping jobs Facet runs. Each one walks every tenant and brings state to a target
// ("no expired records", "no key past its overlap"), so running twice is harmless.
import type { Kysely } from 'kysely';
import { withTenant } from '../db/tenant-scope.ts';
import { listTenants, bumpConfigVersion } from '../tenancy/registry.ts';
import { purgeExpiredRecords } from '../oidc/adapter.ts';
import { purgeExpiredSignInState } from '../accounts/housekeeping.ts';
import { purgeFailedAttempts } from '../lockout/index.ts';
import { retireExpiredKeys } from '../keys/signing-keys.ts';
import { appendAudit, verifyAuditChain } from '../audit/audit-log.ts';
import type { JobDefinitions } from './types.ts';

const MINUTE = 60_000;

export function facetJobs({ db, failedAttemptRetentionDays = 30 }: { db: Kysely<any>; failedAttemptRetentionDays?: number }): JobDefinitions {
  return {
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
