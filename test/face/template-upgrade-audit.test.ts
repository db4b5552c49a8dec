// A face template made by an older pipeline version is replaced by a current one after a
// successful verify, and the server's face service (src/factors/face/runtime.ts) records that as
// `factor.face.template_upgraded` in the verify's own transaction. Templates are enrolled by
// engines of older pipeline versions (1, and 2 — the release before the current one) and verified
// by the server's service with the current one. Real engine, real LFW pictures, a real tenant (migrations, audit
// hash chain) on PGlite.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { verifyAuditChain } from '../../src/audit/audit-log.ts';
import { createUser } from '../../src/accounts/users.ts';
import { createKeyRing, generateFernetKey } from '../../src/crypto/key-ring.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrateControl } from '../../src/db/migrations.ts';
import { withTenant, type TenantDb } from '../../src/db/tenant-scope.ts';
import { createFaceEngine, type FaceEngine } from '../../src/face/index.ts';
import { CURRENT_PIPELINE_VERSION } from '../../src/face/pipeline.ts';
import { createFaceService, loadTemplates, type FaceService } from '../../src/face/templates/index.ts';
import { createFaceRuntime, type FaceRuntime } from '../../src/factors/face/runtime.ts';
import { createTenant } from '../../src/tenancy/provision.ts';
import type { TenantRecord } from '../../src/tenancy/registry.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

const KEK = Buffer.alloc(32, 5).toString('base64url');
const imagesDir = path.join(faceDataDir, 'images');
async function picture(name: string, n: number): Promise<Buffer> {
  const files = (await readdir(path.join(imagesDir, name))).sort();
  return readFile(path.join(imagesDir, name, files[n - 1]!));
}

describe('upgrading a face template of the previous pipeline is audited', () => {
  let database: Database;
  let tenant: TenantRecord;
  let oldEngine: FaceEngine;
  let oldService: FaceService;
  let v2Engine: FaceEngine;
  let v2Service: FaceService;
  let runtime: FaceRuntime;
  let service: FaceService;
  const ring = createKeyRing([generateFernetKey()]);
  const inTenant = <T>(work: (trx: TenantDb) => Promise<T>) => withTenant(database.db, tenant, work);
  const upgradeEvents = () =>
    inTenant((trx) => trx.selectFrom('audit_events').select(['type', 'actor', 'subject', 'data']).where('type', '=', 'factor.face.template_upgraded').orderBy('id').execute());

  /** A user with one template made by pipeline version 1, as the previous build enrolled it. */
  async function enrolWithOldPipeline(person: string, n: number, version: 1 | 2 = 1): Promise<string> {
    const enrolling = version === 1 ? oldService : v2Service;
    const prepared = await enrolling.prepareEnrolment([await picture(person, n)]);
    assert.equal(prepared.chosen.pipelineVersion, version);
    return inTenant(async (trx) => {
      const user = await createUser(trx, { username: `${person.toLowerCase()}-${n}` });
      await enrolling.saveEnrolment(trx, user.id, prepared);
      return user.id;
    });
  }

  before(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await migrateControl(database.db);
    tenant = await createTenant(database.db, { slug: 'faces' }, { kek: KEK });
    [oldEngine, v2Engine, runtime] = await Promise.all([
      createFaceEngine({ modelsDir, workers: 1, pipeline: { pipelineVersion: 1 } }),
      createFaceEngine({ modelsDir, workers: 1, pipeline: { pipelineVersion: 2 } }),
      createFaceRuntime({ modelsDir, ring, workers: 1, logger: pino({ level: 'silent' }) }),
    ]);
    oldService = createFaceService({ engine: oldEngine, ring, minEnrolQuality: 0 });
    v2Service = createFaceService({ engine: v2Engine, ring, minEnrolQuality: 0 });
    service = await runtime.service();
  });
  after(async () => {
    await Promise.all([oldEngine?.close(), v2Engine?.close(), runtime?.close()]);
    await database?.close();
  });

  it('a rolled-back verify leaves neither the new template nor the event', async () => {
    const userId = await enrolWithOldPipeline('Tony_Blair', 1);
    const probe = await picture('Tony_Blair', 3);
    await assert.rejects(
      inTenant(async (trx) => {
        const result = await service.verify(trx, userId, [probe]);
        assert.equal(result.upgraded?.fromVersion, 1, JSON.stringify(result));
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual(await upgradeEvents(), []);
    assert.deepEqual((await inTenant((trx) => loadTemplates(trx, ring, userId))).map((t) => t.pipelineVersion), [1]);
  });

  it('enrolled with the old pipeline, verified with the new one: the template is current and the upgrade is audited once', async () => {
    const userId = await enrolWithOldPipeline('Bill_Gates', 1);
    const [old] = await inTenant((trx) => loadTemplates(trx, ring, userId));
    assert.equal(old!.pipelineVersion, 1);

    // Somebody else: no match, no upgrade, no event.
    const other = await inTenant(async (trx) => service.verify(trx, userId, [await picture('Silvio_Berlusconi', 1)]));
    assert.equal(other.match, false);
    assert.deepEqual(await upgradeEvents(), []);

    const result = await inTenant(async (trx) => service.verify(trx, userId, [await picture('Bill_Gates', 2)]));
    assert.equal(result.match, true, JSON.stringify(result));
    assert.deepEqual(result.upgraded && { from: result.upgraded.fromVersion, to: result.upgraded.toVersion, replaced: result.upgraded.replacedTemplateId }, {
      from: 1,
      to: CURRENT_PIPELINE_VERSION,
      replaced: old!.id,
    });
    const now = await inTenant((trx) => loadTemplates(trx, ring, userId));
    assert.deepEqual(now.map((t) => [t.id, t.pipelineVersion]), [[result.upgraded!.templateId, CURRENT_PIPELINE_VERSION]]);

    const events = await upgradeEvents();
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event!.actor, userId);
    assert.equal(event!.subject, userId);
    const data = typeof event!.data === 'string' ? JSON.parse(event!.data) : event!.data;
    assert.deepEqual(data, { template_id: result.upgraded!.templateId, replaced_template_id: old!.id, from_version: 1, to_version: CURRENT_PIPELINE_VERSION });

    // The next verify compares current with current: nothing to upgrade, no second event.
    const again = await inTenant(async (trx) => service.verify(trx, userId, [await picture('Bill_Gates', 3)]));
    assert.equal(again.match, true, JSON.stringify(again));
    assert.equal(again.upgraded, undefined);
    assert.equal((await upgradeEvents()).length, 1);
    assert.equal((await inTenant((trx) => verifyAuditChain(trx))).ok, true);
  });

  it('a template of the previous release (pipeline version 2) is upgraded and audited the same way', async () => {
    assert.ok(CURRENT_PIPELINE_VERSION > 2);
    const userId = await enrolWithOldPipeline('Tony_Blair', 5, 2);
    const [old] = await inTenant((trx) => loadTemplates(trx, ring, userId));
    assert.equal(old!.pipelineVersion, 2);
    const before = (await upgradeEvents()).length;
    const result = await inTenant(async (trx) => service.verify(trx, userId, [await picture('Tony_Blair', 6)]));
    assert.equal(result.match, true, JSON.stringify(result));
    assert.equal(result.upgraded?.fromVersion, 2);
    const now = await inTenant((trx) => loadTemplates(trx, ring, userId));
    assert.deepEqual(now.map((t) => [t.id, t.pipelineVersion]), [[result.upgraded!.templateId, CURRENT_PIPELINE_VERSION]]);
    const events = await upgradeEvents();
    assert.equal(events.length, before + 1);
    const data = typeof events.at(-1)!.data === 'string' ? JSON.parse(events.at(-1)!.data as string) : events.at(-1)!.data;
    assert.deepEqual(data, { template_id: result.upgraded!.templateId, replaced_template_id: old!.id, from_version: 2, to_version: CURRENT_PIPELINE_VERSION });
  });
});
