// `facet tenant apply <file>`: makes the database match a tenant file. Idempotent: applying the
// same file twice changes nothing and records no second set of audit events.
import { sql } from 'kysely';
import { CONTROL_SCHEMA } from '../db/migrations.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { resolveSecret } from '../config/client-secrets.ts';
import { createTenant } from './provision.ts';
import { findTenant } from './registry.ts';
import { notifyTenantChanged } from './change-feed.ts';
import type { ClientDefinition, TenantFile } from './tenant-file.ts';
import { syncFileAdmins, type FileAdminsReport } from '../admin/roles.ts';
import type { RootDb } from '../db/client.ts';

export interface ApplyReport {
  slug: string;
  created: boolean;
  settingsChanged: boolean;
  clients: { added: string[]; updated: string[]; removed: string[]; unchanged: string[] };
  /** Console roles from `admins:` (granted, revoked, and entries naming nobody yet). */
  admins: FileAdminsReport;
}

/** Settings a tenant file may leave to the console (the file's own value wins when it has one). */
export const CONSOLE_BRANDING_KEYS = ['logo_url', 'brand_color'] as const;

function clientRow(client: ClientDefinition) {
  const { client_id, first_party, secret, ...metadata } = client;
  return {
    client_id,
    first_party,
    secret_env: secret?.env ?? null,
    secret_dev: secret?.dev ?? null,
    metadata,
  };
}

const stable = (value: unknown): string => JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));

export async function applyTenantFile(
  db: RootDb,
  file: TenantFile,
  { kek, production, env = process.env, actor = 'tenant-file' }: { kek: string; production: boolean; env?: NodeJS.ProcessEnv; actor?: string },
): Promise<ApplyReport> {
  // Fail before touching anything if a secret the file needs is missing (production) or unsafe.
  for (const client of file.clients) {
    if (client.secret) resolveSecret(client.client_id, client.secret.env, client.secret.dev ?? null, production, env);
  }
  // `admins:` travels with the settings too: a listed user who signs up later is granted the role
  // at their first console sign-in.
  let tenant = await findTenant(db, file.slug);
  // Branding the file does not declare (logo, colour) is set in the console (PUT …/admin/api/branding)
  // and stays; what the file declares wins.
  const current = (tenant?.settings ?? {}) as Record<string, unknown>;
  const fromConsole = Object.fromEntries(CONSOLE_BRANDING_KEYS.filter((key) => file.settings[key] === undefined && current[key] !== undefined).map((key) => [key, current[key]]));
  const settings = { ...file.settings, ...fromConsole, resources: file.resources, ...(file.admins.length > 0 ? { admins: file.admins } : {}) };
  const created = !tenant;
  if (!tenant) tenant = await createTenant(db, { slug: file.slug, name: file.name, settings }, { kek, actor });

  const report: ApplyReport = { slug: file.slug, created, settingsChanged: false, clients: { added: [], updated: [], removed: [], unchanged: [] }, admins: { granted: [], revoked: [], pending: [] } };
  const settingsChanged = tenant.name !== file.name || stable(tenant.settings) !== stable(settings);
  report.settingsChanged = !created && settingsChanged;

  await withTenant(db, tenant, async (trx) => {
    const existing = new Map(
      (await trx.selectFrom('clients').selectAll().execute()).map((row) => [row.client_id as string, row]),
    );
    for (const client of file.clients) {
      const row = clientRow(client);
      const current = existing.get(row.client_id);
      existing.delete(row.client_id);
      if (!current) {
        await trx.insertInto('clients').values({ ...row, metadata: JSON.stringify(row.metadata), source: 'file' }).execute();
        report.clients.added.push(row.client_id);
        await appendAudit(trx, { type: 'client.created', actor, clientId: row.client_id });
      } else if (
        stable(current.metadata) !== stable(row.metadata) ||
        current.first_party !== row.first_party ||
        current.secret_env !== row.secret_env ||
        current.secret_dev !== row.secret_dev
      ) {
        await trx
          .updateTable('clients')
          .set({ ...row, metadata: JSON.stringify(row.metadata), updated_at: new Date() })
          .where('client_id', '=', row.client_id)
          .execute();
        report.clients.updated.push(row.client_id);
        await appendAudit(trx, { type: 'client.updated', actor, clientId: row.client_id });
      } else {
        report.clients.unchanged.push(row.client_id);
      }
    }
    // Clients that came from the file and are no longer in it go; admin-made clients stay.
    for (const [clientId, row] of existing) {
      if (row.source !== 'file') continue;
      await trx.deleteFrom('clients').where('client_id', '=', clientId).execute();
      report.clients.removed.push(clientId);
      await appendAudit(trx, { type: 'client.deleted', actor, clientId });
    }
    if (report.settingsChanged) await appendAudit(trx, { type: 'tenant.settings_changed', actor });
    report.admins = await syncFileAdmins(trx, file.admins, { actor });
  });

  const changed = report.settingsChanged || report.clients.added.length + report.clients.updated.length + report.clients.removed.length > 0;
  if (changed || created) {
    await db
      .updateTable(`${CONTROL_SCHEMA}.tenants`)
      .set({ name: file.name, settings: JSON.stringify(settings), config_version: sql`config_version + 1`, updated_at: sql`now()` })
      .where('slug', '=', file.slug)
      .execute();
    await notifyTenantChanged(db, file.slug);
  }
  return report;
}
