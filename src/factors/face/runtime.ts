// The face factor as the server holds it: models verified once at start, the engine (worker
// threads, ONNX sessions) created on first use, templates sealed with the face-template ring
// (src/crypto/purpose-rings.ts; the boot check of stored data is src/keys/sealed-data.ts). A missing
// or corrupt model disables the factor with a clear reason; it never stops the server.
import type { Logger } from 'pino';
import { createFaceEngine, loadModels, type FaceEngine } from '../../face/index.ts';
import { createFaceService, type FaceService, type TemplateUpgrade } from '../../face/templates/service.ts';
import { appendAudit } from '../../audit/audit-log.ts';
import type { TenantDb, TenantKysely } from '../../db/tenant-scope.ts';
import { createDuplicateDetector } from '../../face/duplicates/index.ts';
import type { KeyRing } from '../../crypto/key-ring.ts';
import { FACE_RUNTIME } from '../../config/defaults.ts';

export type FaceStatus = { available: true; model: string } | { available: false; reason: string };

export interface FaceRuntime {
  readonly ring: KeyRing;
  status(): FaceStatus;
  /** The enrol/verify service; throws when the factor is unavailable. */
  service(): Promise<FaceService>;
  close(): Promise<void>;
}

/** Writes `factor.face.template_upgraded` (the service calls this inside the verify's tenant transaction). */
export async function auditTemplateUpgrade(db: TenantKysely, upgrade: TemplateUpgrade & { userId: string }): Promise<void> {
  // The service is always handed the caller's tenant transaction (withTenant), which is what appendAudit takes.
  await appendAudit(db as TenantDb, {
    type: 'factor.face.template_upgraded',
    actor: upgrade.userId,
    subject: upgrade.userId,
    data: { template_id: upgrade.templateId, replaced_template_id: upgrade.replacedTemplateId, from_version: upgrade.fromVersion, to_version: upgrade.toVersion },
  });
}

export async function createFaceRuntime({ modelsDir, ring, workers = FACE_RUNTIME.workers, logger }: { modelsDir: string; ring: KeyRing; workers?: number; logger: Logger }): Promise<FaceRuntime> {
  const models = await loadModels({ dir: modelsDir });
  const status: FaceStatus = models.available ? { available: true, model: models.embedder.name } : { available: false, reason: models.reason };
  if (!models.available) logger.warn({ modelsDir, reason: models.reason }, 'face factor disabled: models unavailable');
  let engine: Promise<FaceEngine> | undefined;
  let service: Promise<FaceService> | undefined;
  return {
    ring,
    status: () => status,
    service() {
      if (!status.available) return Promise.reject(new Error(`the face factor is unavailable: ${status.reason}`));
      engine ??= createFaceEngine({ modelsDir, workers });
      // Passive PAD: FACE_RUNTIME.minPassiveLiveness says why it does not gate yet. Duplicate enrolment detection runs where the tenant schema has pgvector and reports itself
      // disabled (with the reason) where it does not.
      // A template of an older pipeline version replaced after a successful verify is audited in
      // the verify's own transaction.
      service ??= engine.then((e) =>
        createFaceService({ engine: e, ring, minPassiveLiveness: FACE_RUNTIME.minPassiveLiveness, duplicates: createDuplicateDetector({ ring }), onTemplateUpgraded: auditTemplateUpgrade }),
      );
      return service;
    },
    async close() {
      if (engine) await (await engine).close();
    },
  };
}
