// `facet audit …`: what an auditor runs. `audit verify` needs nothing but the archive (and the
// tenant's published key set); `audit verify-db` and `audit checkpoint` open the database.
import type { Command } from './command.ts';
import { FacetError } from '../errors/facet-error.ts';
import type { RootDb } from '../db/client.ts';

class AuditCommandError extends FacetError {
  readonly code = 'audit_command_failed';
}

async function withDb<T>(work: (db: RootDb, config: import('../config/index.ts').Config) => Promise<T>): Promise<T> {
  const { loadConfig } = await import('../config/index.ts');
  const { openConfiguredDatabase, migrateAll } = await import('../boot.ts');
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    await migrateAll(database);
    return await work(database.db, config);
  } finally {
    await database.close();
  }
}

export const auditCommands: Record<string, Command> = {
  'audit verify': {
    summary: 'verify an audit export offline: signature, file digest, every row, chain continuity',
    usage: 'audit verify <archive.tar> [--jwks <url|file>] [--json]',
    positionals: 1,
    options: { jwks: { type: 'string' }, json: { type: 'boolean' } },
    async run({ positionals, values, out }) {
      const { verifyExport, loadKeySet } = await import('../audit/verify-export.ts');
      const keys = values.jwks ? await loadKeySet(values.jwks) : undefined;
      const verdict = await verifyExport(positionals[0]!, keys ? { keys } : {});
      if (values.json) {
        out.write(`${JSON.stringify({ ok: verdict.ok, rows: verdict.rows, first_bad_line: verdict.firstBadLine, problems: verdict.problems, notes: verdict.notes, manifest: verdict.manifest })}\n`);
      } else {
        const m = verdict.manifest;
        if (m) out.write(`export ${m.export_id} of tenant ${m.tenant} (${m.iss}), ${m.format}, ${m.rows} rows, events ${m.first_event_id ?? '-'}…${m.last_event_id ?? '-'}\n`);
        for (const problem of verdict.problems) out.write(`FAIL ${problem}\n`);
        for (const note of verdict.notes) out.write(`note: ${note}\n`);
        out.write(verdict.ok ? `OK: signature, digest and all ${verdict.rows} rows verified${m?.complete ? '; the chain is continuous from the first to the last row' : ''}\n` : 'REJECTED\n');
      }
      return verdict.ok ? 0 : 1;
    },
  },
  'audit verify-db': {
    summary: 'check the tenant\'s chain against signed checkpoints held outside the database',
    usage: 'audit verify-db --tenant <slug> [--checkpoints <dir>] [--jwks <url|file>]',
    options: { tenant: { type: 'string' }, checkpoints: { type: 'string' }, jwks: { type: 'string' } },
    async run({ values, out }) {
      if (!values.tenant) throw new AuditCommandError('--tenant <slug> is required');
      const { readCheckpointDir, verifyChainAgainstCheckpoints, listCheckpoints } = await import('../audit/checkpoints.ts');
      const { loadKeySet } = await import('../audit/verify-export.ts');
      const { auditKeySet } = await import('../audit/signing.ts');
      const { withTenant } = await import('../db/tenant-scope.ts');
      const { findTenant } = await import('../tenancy/registry.ts');
      return withDb(async (db, config) => {
        const tenant = await findTenant(db, values.tenant);
        if (!tenant) throw new AuditCommandError(`no tenant called ${values.tenant}`);
        const dir = values.checkpoints ?? (config.audit.checkpointDir ? `${config.audit.checkpointDir}/${tenant.slug}` : undefined);
        const external = dir ? await readCheckpointDir(dir) : { jws: [], keys: null };
        const pinned = values.jwks ? await loadKeySet(values.jwks) : external.keys;
        const notes: string[] = [];
        const report = await withTenant(db, tenant, async (trx) => {
          let keys = pinned;
          let checkpoints = external.jws;
          if (!keys) {
            keys = await auditKeySet(trx);
            notes.push('keys read from the database itself (pass --jwks or a checkpoint directory with keys.json to pin them)');
          }
          if (!dir) {
            checkpoints = (await listCheckpoints(trx, { limit: 100_000 })).map((c) => c.jws);
            notes.push('checkpoints read from the database itself: this detects edits, but not a rewrite by the database owner (pass --checkpoints <dir> with copies held elsewhere)');
          }
          return verifyChainAgainstCheckpoints(trx, { slug: tenant.slug, checkpoints, keys });
        });
        out.write(`tenant ${tenant.slug}: ${report.rows} events, ${report.checkpoints} checkpoints${dir ? ` from ${dir}` : ''}\n`);
        for (const problem of report.problems) out.write(`FAIL ${problem}\n`);
        for (const note of [...notes, ...report.notes]) out.write(`note: ${note}\n`);
        out.write(report.ok ? 'OK: the chain is intact and matches every checkpoint\n' : 'REJECTED\n');
        return report.ok ? 0 : 1;
      });
    },
  },
  'audit checkpoint': {
    summary: 'sign the audit chain head of one tenant (or all) now',
    usage: 'audit checkpoint [--tenant <slug>]',
    options: { tenant: { type: 'string' } },
    async run({ values, out }) {
      const { checkpointTenant, deliverWithRetry } = await import('../audit/checkpoints.ts');
      const { checkpointSinks, CHECKPOINT_DELIVERY } = await import('../jobs/definitions.ts');
      const { findTenant, listTenants } = await import('../tenancy/registry.ts');
      return withDb(async (db, config) => {
        const tenants = values.tenant ? [await findTenant(db, values.tenant)] : await listTenants(db);
        if (tenants.some((t) => !t)) throw new AuditCommandError(`no tenant called ${values.tenant}`);
        const sinks = checkpointSinks(config.audit);
        let undelivered = 0;
        for (const tenant of tenants) {
          const c = await checkpointTenant(db, tenant!, { kek: config.kek, issuer: `${config.publicUrl}/t/${tenant!.slug}`, reason: 'cli' });
          out.write(`tenant ${tenant!.slug}: checkpoint ${c.seq} signs event ${c.eventId} (${c.eventHash.slice(0, 16)}…)\n`);
          const delivery = await deliverWithRetry(db, tenant!, sinks, { attempts: CHECKPOINT_DELIVERY.inlineAttempts, backoffMs: 1000 });
          for (const f of delivery.failures) out.write(`FAIL tenant ${tenant!.slug}: ${f.sink} did not take checkpoint ${f.seq} (${f.attempt} failed attempts): ${f.error}; it stays pending and is retried by the audit-checkpoint job\n`);
          undelivered += delivery.failures.length;
        }
        return undelivered > 0 ? 1 : 0;
      });
    },
  },
  'audit rotate-key': {
    summary: "rotate a tenant's audit-signing key (the old one stays published, so what it signed still verifies)",
    usage: 'audit rotate-key --tenant <slug>',
    options: { tenant: { type: 'string' } },
    async run({ values, out }) {
      if (!values.tenant) throw new AuditCommandError('--tenant <slug> is required');
      const { rotateAuditKey } = await import('../audit/signing.ts');
      const { withTenant } = await import('../db/tenant-scope.ts');
      const { findTenant } = await import('../tenancy/registry.ts');
      return withDb(async (db, config) => {
        const tenant = await findTenant(db, values.tenant);
        if (!tenant) throw new AuditCommandError(`no tenant called ${values.tenant}`);
        const result = await withTenant(db, tenant, (trx) => rotateAuditKey(trx, { kek: config.kek, slug: tenant.slug, actor: 'cli' }));
        out.write(`tenant ${tenant.slug}: audit key ${result.created} signs from now on; retired ${result.retired.join(', ') || '(none)'} (still published at ${config.publicUrl}/t/${tenant.slug}/audit/keys.json)\n`);
        return 0;
      });
    },
  },
};
