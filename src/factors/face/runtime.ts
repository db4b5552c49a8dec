// The face factor as the server holds it: models verified once at start, the engine (worker
// threads, ONNX sessions) created on first use, the template key ring checked against stored
// templates. A missing or corrupt model disables the factor with a clear reason; it never stops
// the server.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createFaceEngine, loadModels, type FaceEngine } from '../../face/index.ts';
import { createFaceService, type FaceService } from '../../face/templates/service.ts';
import { sampleTemplateCiphertexts } from '../../face/templates/store.ts';
import { createDuplicateDetector } from '../../face/duplicates/index.ts';
import { assertRingDecrypts, parseKeyRing, type KeyRing } from '../../crypto/key-ring.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { listTenants } from '../../tenancy/registry.ts';

export type FaceStatus = { available: true; model: string } | { available: false; reason: string };

export interface FaceRuntime {
  readonly ring: KeyRing;
  status(): FaceStatus;
  /** The enrol/verify service; throws when the factor is unavailable. */
  service(): Promise<FaceService>;
  close(): Promise<void>;
}

export async function createFaceRuntime({ modelsDir, embeddingKeys, workers = 1, logger }: { modelsDir: string; embeddingKeys: string[]; workers?: number; logger: Logger }): Promise<FaceRuntime> {
  const ring = parseKeyRing(embeddingKeys.join(','));
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
      // Passive PAD scores genuine LFW photos around 0.5 (docs/face-pipeline.md): recorded with
      // every check, not used as a gate until it is calibrated on real spoof data.
      // Duplicate enrolment detection runs where the tenant schema has pgvector and reports itself
      // disabled (with the reason) where it does not.
      service ??= engine.then((e) => createFaceService({ engine: e, ring, minPassiveLiveness: 0, duplicates: createDuplicateDetector({ ring }) }));
      return service;
    },
    async close() {
      if (engine) await (await engine).close();
    },
  };
}

/**
 * Boot check (production): a few stored templates per tenant must open with FACET_EMBEDDING_KEYS.
 * A ring that cannot read existing templates is a configuration error, never a silent re-key.
 */
export async function assertTemplatesReadable(db: Kysely<any>, ring: KeyRing): Promise<void> {
  for (const tenant of await listTenants(db)) {
    const samples = await withTenant(db, tenant, (trx) => sampleTemplateCiphertexts(trx, { limit: 3 }));
    try {
      assertRingDecrypts(ring, samples);
    } catch (error) {
      throw Object.assign(new Error(`tenant ${tenant.slug}: ${(error as Error).message}`, { cause: error }), { code: 'embedding_keys_mismatch' });
    }
  }
}
