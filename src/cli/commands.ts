// The CLI's commands. Each opens the configured database, does one job, reports, and closes.
import { FacetError } from '../errors/facet-error.ts';
import { loadConfig } from '../config/index.ts';
import { applyTenantFile } from '../tenancy/apply.ts';
import { createTenant } from '../tenancy/provision.ts';
import { bumpConfigVersion, findTenant, listTenants } from '../tenancy/registry.ts';
import { readTenantFile } from '../tenancy/tenant-file.ts';
import { migrateAll, openConfiguredDatabase } from '../boot.ts';
import { withTenant } from '../db/tenant-scope.ts';
import { rotateKeys } from '../keys/signing-keys.ts';
import { appendAudit } from '../audit/audit-log.ts';
import type { Database } from '../db/client.ts';
import { createInvite } from '../accounts/invites.ts';
import { auditCommands } from './audit-commands.ts';
import { adminCommands } from './admin-commands.ts';

import type { Command, CommandContext } from './command.ts';

export type { Command, CommandContext };

class CommandError extends FacetError {
  readonly code = 'command_failed';
}

async function withDatabase<T>(work: (database: Database, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const report = await migrateAll(database);
    const failed = report.tenants.filter((t) => t.error);
    if (failed.length > 0) throw new CommandError(`migrations failed for: ${failed.map((t) => `${t.slug} (${t.error})`).join(', ')}`);
    return await work(database, config);
  } finally {
    await database.close();
  }
}

/**
 * `facet keys rekey`: for each tenant and purpose, re-seals every stored value that the first key
 * of its ring did not seal, in batches (one transaction each). Safe to stop and run again. Purpose
 * `kek` re-seals what FACET_KEK seals (token and audit-signing private keys, console client secrets).
 */
async function rekeyCommand({ values, out }: CommandContext): Promise<number> {
  const { KEY_PURPOSES, KEY_VARIABLES, createPurposeRings, ringFor, FACTOR_KEYS_FALLBACK_WARNING } = await import('../crypto/purpose-rings.ts');
  const { rekeyTenant } = await import('../keys/sealed-data.ts');
  const { rekeyKekSealed } = await import('../keys/kek-rekey.ts');
  const { kekFingerprint } = await import('../keys/key-encryption.ts');
  const purpose = values.purpose ?? 'all';
  if (purpose !== 'all' && purpose !== 'kek' && !(KEY_PURPOSES as readonly string[]).includes(purpose)) throw new CommandError(`--purpose must be one of face, factors, all, kek (not ${purpose})`);
  const purposes = purpose === 'all' ? KEY_PURPOSES : purpose === 'kek' ? [] : [purpose as (typeof KEY_PURPOSES)[number]];
  const withKek = purpose === 'all' || purpose === 'kek';
  const batchSize = Number(values.batch ?? 200);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new CommandError(`--batch must be a positive whole number (not ${values.batch})`);
  return withDatabase(async ({ db }, config) => {
    const rings = createPurposeRings(config);
    if (rings.factorFallback && purposes.includes('factors')) out.write(`note: ${FACTOR_KEYS_FALLBACK_WARNING}\n`);
    const tenants = values.tenant ? [await findTenant(db, values.tenant)] : await listTenants(db);
    const totals = new Map<string, { rekeyed: number; current: number }>();
    for (const tenant of tenants) {
      if (!tenant) throw new CommandError(`no tenant called ${values.tenant}`);
      const counts: Array<{ purpose: string; table: string; rekeyed: number; current: number }> = await rekeyTenant(db, tenant, rings, purposes, {
        batchSize,
        onBatch: (c) => out.write(`tenant ${tenant.slug}: ${c.table} ${c.rekeyed} re-encrypted, ${c.current} already current so far\n`),
      });
      if (withKek) counts.push(...(await rekeyKekSealed(db, tenant, config.kek)));
      const keys: Record<string, string> = Object.fromEntries(purposes.map((p) => [p, ringFor(rings, p).primaryKeyId]));
      if (withKek) keys.kek = kekFingerprint(config.kek);
      const done = withKek ? [...purposes, 'kek'] : purposes;
      await withTenant(db, tenant, (trx) => appendAudit(trx, { type: 'keys.rekeyed', actor: 'cli', data: { purposes: done, keys, counts } }));
      for (const c of counts) {
        out.write(`tenant ${tenant.slug}: ${c.purpose} ${c.table}: ${c.rekeyed} re-encrypted, ${c.current} already current\n`);
        const total = totals.get(c.table) ?? { rekeyed: 0, current: 0 };
        totals.set(c.table, { rekeyed: total.rekeyed + c.rekeyed, current: total.current + c.current });
      }
    }
    for (const [table, total] of totals) out.write(`total ${table}: ${total.rekeyed} re-encrypted, ${total.current} already current\n`);
    if (values.tenant) {
      out.write(`only tenant ${values.tenant} was re-keyed: run without --tenant before removing old keys\n`);
      return 0;
    }
    for (const p of purposes) {
      const variable = p === 'factors' && rings.factorFallback ? KEY_VARIABLES.face : KEY_VARIABLES[p];
      out.write(`${p}: everything is under the first key of ${variable} (${ringFor(rings, p).primaryKeyId}); the other keys can be removed from it\n`);
    }
    if (withKek) out.write(`kek: everything is under the first key of FACET_KEK (${kekFingerprint(config.kek)}); the other keys can be removed from it\n`);
    return 0;
  });
}

export const commands: Record<string, Command> = {
  start: {
    summary: 'run the server (same as npm start)',
    usage: 'start',
    async run() {
      await import('../main.ts');
      return new Promise<number>(() => {});
    },
  },
  worker: {
    summary: 'run background jobs from Redis (REDIS_URL required); metrics on :9464',
    usage: 'worker [--metrics-port 9464]',
    options: { 'metrics-port': { type: 'string' } },
    async run({ values, out }) {
      const config = loadConfig();
      if (!config.redisUrl) throw new CommandError('facet worker needs REDIS_URL; without Redis the server runs the jobs itself');
      const { createLogger } = await import('../observability/logger.ts');
      const { createServices } = await import('../services.ts');
      const { runWorkerProcess } = await import('../jobs/index.ts');
      const { startMetricsServer } = await import('../observability/metrics-server.ts');
      const { installationPrefix } = await import('../tenancy/registry.ts');
      const logger = createLogger({ level: config.logLevel });
      const database = await openConfiguredDatabase(config);
      await migrateAll(database);
      const services = await createServices({ config, db: database.db, logger, installation: await installationPrefix(database.db) });
      const metricsServer = await startMetricsServer(services.metrics.registry, {
        port: Number(values['metrics-port'] ?? 9464),
        ...(config.metricsToken ? { token: config.metricsToken } : {}),
      });
      out.write(`facet worker: running jobs; metrics on :${metricsServer.port}\n`);
      await runWorkerProcess({
        runner: services.jobs,
        logger,
        onStopped: async () => {
          await metricsServer.close();
          await services.close();
          await database.close();
        },
      });
    },
  },
  'jobs run': {
    summary: 'run one housekeeping job now and print its result',
    usage: 'jobs run <purge-oidc-records|purge-failed-attempts|retire-signing-keys|verify-audit-chains>',
    positionals: 1,
    async run({ positionals, out }) {
      const { facetJobs } = await import('../jobs/definitions.ts');
      return withDatabase(async ({ db }, config) => {
        const jobs = facetJobs({ db, audit: { kek: config.kek, publicUrl: config.publicUrl, settings: config.audit } });
        const job = jobs[positionals[0]!];
        if (!job) throw new CommandError(`no job called ${positionals[0]}; one of: ${Object.keys(jobs).join(', ')}`);
        const lines: string[] = [];
        const log = { info: (o: object, m: string) => lines.push(`${m} ${JSON.stringify(o)}`), warn: (o: object, m: string) => lines.push(`${m} ${JSON.stringify(o)}`), error: (o: object, m: string) => lines.push(`${m} ${JSON.stringify(o)}`) };
        const result = await job.handler({ name: positionals[0]!, id: 'cli', attempt: 1, data: {}, progress: async () => {}, log });
        out.write(`${lines.join('\n')}\n${JSON.stringify(result)}\n`);
        const broken = (result as { broken?: unknown[] } | undefined)?.broken;
        return Array.isArray(broken) && broken.length > 0 ? 1 : 0;
      });
    },
  },
  'models fetch': {
    summary: 'download the face models in models/manifest.json and verify their sha256',
    usage: 'models fetch [--dir <dir>] [--all]',
    options: { dir: { type: 'string' }, all: { type: 'boolean' } },
    async run({ values, out }) {
      const { fetchModels, readManifest } = await import('../face/index.ts');
      const dir = values.dir ?? loadConfig().modelsDir;
      const result = await fetchModels({ dir, manifest: await readManifest(), onlyRequired: !values.all, log: (line: string) => out.write(`${line}\n`) });
      out.write(`models in ${dir}: ${result.present.length} already present, ${result.downloaded.length} downloaded\n`);
    },
  },
  'models verify': {
    summary: 'check the face models in FACET_MODELS_DIR against the manifest',
    usage: 'models verify [--dir <dir>]',
    options: { dir: { type: 'string' } },
    async run({ values, out, err }) {
      const { loadModels } = await import('../face/index.ts');
      const dir = values.dir ?? loadConfig().modelsDir;
      const loaded = await loadModels({ dir });
      if (!loaded.available) {
        err.write(`face models in ${dir} are not usable: ${loaded.reason}\n`);
        return 1;
      }
      out.write(`face models in ${dir} verified; embedder ${loaded.embedder.name}\n`);
    },
  },
  'face eval': {
    summary: 'measure the face pipeline on a pairs file (k-fold accuracy, TAR@FAR, all against all, DET curve)',
    usage: 'face eval --pairs <file> --images <dir> [--out <json>] [--det <png>] [--pipeline-version <n>] [--refine <px>] [--flip off|mirror|mirror-redetect] [--first-landmarks on|off] [--detector-size <px>] [--camera-frame] [--embedder <name in models/manifest.json>] [--quick]',
    options: {
      pairs: { type: 'string' },
      images: { type: 'string' },
      out: { type: 'string' },
      det: { type: 'string' },
      'pipeline-version': { type: 'string' },
      refine: { type: 'string' },
      flip: { type: 'string' },
      'first-landmarks': { type: 'string' },
      'detector-size': { type: 'string' },
      'camera-frame': { type: 'boolean' },
      embedder: { type: 'string' },
      quick: { type: 'boolean' },
    },
    async run({ values, out }) {
      if (!values.pairs || !values.images) throw new CommandError('--pairs <file> and --images <dir> are required');
      const { runFaceEval } = await import('../face/eval/index.ts');
      const { PIPELINE_VERSIONS } = await import('../face/pipeline.ts');
      const pipeline: { pipelineVersion?: number; refineFaceSize?: number; flip?: 'off' | 'mirror' | 'mirror-redetect'; firstLandmarks?: boolean; detectorSize?: number } = {};
      if (values['pipeline-version'] !== undefined) {
        const version = Number(values['pipeline-version']);
        if (!PIPELINE_VERSIONS[version]) throw new CommandError(`--pipeline-version must be one of ${Object.keys(PIPELINE_VERSIONS).join(', ')}`);
        pipeline.pipelineVersion = version;
      }
      if (values.refine !== undefined) {
        const size = Number(values.refine);
        if (!Number.isInteger(size) || size < 0 || size > 1024) throw new CommandError('--refine must be a face size in pixels from 0 (off) to 1024');
        pipeline.refineFaceSize = size;
      }
      if (values.flip !== undefined) {
        if (values.flip !== 'off' && values.flip !== 'mirror' && values.flip !== 'mirror-redetect') throw new CommandError('--flip must be off, mirror or mirror-redetect');
        pipeline.flip = values.flip;
      }
      if (values['first-landmarks'] !== undefined) {
        if (values['first-landmarks'] !== 'on' && values['first-landmarks'] !== 'off') throw new CommandError('--first-landmarks must be on or off');
        pipeline.firstLandmarks = values['first-landmarks'] === 'on';
      }
      if (values['detector-size'] !== undefined) {
        // YuNet's input is padded to multiples of 32 (its coarsest stride).
        const size = Number(values['detector-size']);
        if (!/^\d+$/.test(values['detector-size']) || size < 64 || size > 1280 || size % 32 !== 0) {
          throw new CommandError('--detector-size must be a whole number of pixels from 64 to 1280 and a multiple of 32 (e.g. 320 or 640)');
        }
        pipeline.detectorSize = size;
      }
      await runFaceEval({
        pairs: values.pairs,
        images: values.images,
        modelsDir: loadConfig().modelsDir,
        pipeline,
        ...(values['camera-frame'] ? { cameraFrame: true } : {}),
        ...(values.embedder ? { embedder: values.embedder } : {}),
        // --quick: 40 pairs per fold and the first 300 people, a smoke test in about a minute.
        ...(values.quick ? { pairsPerFold: 40, maxIdentities: 300 } : {}),
        ...(values.out ? { out: values.out } : {}),
        ...(values.det ? { det: values.det } : {}),
        log: (line: string) => out.write(`${line}\n`),
      });
    },
  },
  'keys rekey': {
    summary: 're-encrypt sealed data under the first key of its ring: face templates, factor secrets, KEK-sealed keys and client secrets (resumable)',
    usage: 'keys rekey [--purpose face|factors|kek|all] [--tenant <slug>] [--batch 200]',
    options: { purpose: { type: 'string' }, tenant: { type: 'string' }, batch: { type: 'string' } },
    run: (ctx) => rekeyCommand(ctx),
  },
  'face rekey': {
    summary: 'the same as keys rekey --purpose face',
    usage: 'face rekey [--tenant <slug>] [--batch 200]',
    options: { tenant: { type: 'string' }, batch: { type: 'string' } },
    run: (ctx) => rekeyCommand({ ...ctx, values: { ...ctx.values, purpose: 'face' } }),
  },
  migrate: {
    summary: 'bring the control schema and every tenant schema up to date',
    usage: 'migrate',
    async run({ out }) {
      const config = loadConfig();
      const database = await openConfiguredDatabase(config);
      try {
        const report = await migrateAll(database);
        out.write(`control: ${report.control.length ? `applied ${report.control.join(', ')}` : 'up to date'}\n`);
        for (const t of report.tenants) {
          out.write(`tenant ${t.slug}: ${t.error ? `FAILED (${t.error}); left unchanged` : t.applied.length ? `applied ${t.applied.join(', ')}` : 'up to date'}\n`);
        }
        return report.tenants.some((t) => t.error) ? 1 : 0;
      } finally {
        await database.close();
      }
    },
  },
  'tenant create': {
    summary: 'create a tenant: schema, role, keys (--name "Display name")',
    usage: 'tenant create <slug> [--name "Display name"]',
    positionals: 1,
    options: { name: { type: 'string' } },
    async run({ positionals, values, out }) {
      return withDatabase(async ({ db }, config) => {
        const tenant = await createTenant(db, { slug: positionals[0]!, name: values.name }, { kek: config.kek, actor: 'cli' });
        out.write(`created tenant ${tenant.slug} (schema ${tenant.schema}, role ${tenant.role})\nissuer: ${config.publicUrl}/t/${tenant.slug}\n`);
      });
    },
  },
  'tenant apply': {
    summary: 'create or update a tenant from a YAML file (idempotent)',
    usage: 'tenant apply <file>',
    positionals: 1,
    async run({ positionals, out }) {
      const file = await readTenantFile(positionals[0]!);
      return withDatabase(async ({ db }, config) => {
        const report = await applyTenantFile(db, file, { kek: config.kek, production: config.production, actor: 'cli' });
        const c = report.clients;
        out.write(
          `tenant ${report.slug}: ${report.created ? 'created' : report.settingsChanged ? 'settings updated' : 'settings unchanged'}; ` +
            `clients added [${c.added.join(', ')}] updated [${c.updated.join(', ')}] removed [${c.removed.join(', ')}] unchanged [${c.unchanged.join(', ')}]\n`,
        );
      });
    },
  },
  'tenant list': {
    summary: 'list tenants',
    usage: 'tenant list',
    async run({ out }) {
      return withDatabase(async ({ db }) => {
        const tenants = await listTenants(db);
        if (tenants.length === 0) out.write('no tenants\n');
        for (const t of tenants) out.write(`${t.slug.padEnd(24)} ${t.status.padEnd(9)} ${t.name}\n`);
      });
    },
  },
  'user invite': {
    summary: 'print a signed, single-use sign-up link for an email (no mail is sent)',
    usage: 'user invite --tenant <slug> <email>',
    positionals: 1,
    options: { tenant: { type: 'string' } },
    async run({ positionals, values, out }) {
      if (!values.tenant) throw new CommandError('--tenant <slug> is required');
      const email = positionals[0]!;
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new CommandError(`${email} is not an email address`);
      return withDatabase(async ({ db }, config) => {
        const tenant = await findTenant(db, values.tenant);
        if (!tenant) throw new CommandError(`no tenant called ${values.tenant}`);
        const invite = await withTenant(db, tenant, async (trx) => {
          const created = await createInvite(trx, { slug: tenant.slug, email, key: config.cookieKeys[0]!, createdBy: 'cli' });
          await appendAudit(trx, { type: 'invite.created', actor: 'cli', data: { invite_id: created.id, email, expires_at: created.expiresAt.toISOString() } });
          return created;
        });
        out.write(`${config.publicUrl}/t/${tenant.slug}/account/sign-in/signup?invite=${invite.token}\n`);
        out.write(`(for ${email}; single use; expires ${invite.expiresAt.toISOString()})\n`);
      });
    },
  },
  'keys rotate': {
    summary: 'add new signing keys; the old ones verify during the overlap',
    usage: 'keys rotate --tenant <slug>',
    options: { tenant: { type: 'string' } },
    async run({ values, out }) {
      if (!values.tenant) throw new CommandError('--tenant <slug> is required');
      return withDatabase(async ({ db }, config) => {
        const tenant = await findTenant(db, values.tenant);
        if (!tenant) throw new CommandError(`no tenant called ${values.tenant}`);
        const result = await withTenant(db, tenant, async (trx) => {
          const rotated = await rotateKeys(trx, { kek: config.kek, slug: tenant.slug, overlapSeconds: config.keyOverlapSeconds });
          await appendAudit(trx, { type: 'keys.rotated', actor: 'cli', data: rotated });
          return rotated;
        });
        await bumpConfigVersion(db, tenant.slug);
        out.write(
          `tenant ${tenant.slug}: new keys [${result.created.join(', ')}]; in overlap for ${config.keyOverlapSeconds}s [${result.retiring.join(', ')}]; retired [${result.retired.join(', ')}]\n`,
        );
      });
    },
  },
  ...auditCommands,
  ...adminCommands,
};
