// Re-encrypts every face template under the key ring's first key, in batches, so the old keys can
// then be removed from FACET_EMBEDDING_KEYS. Idempotent and resumable: rows already marked with
// the first key's id are skipped, and the walk goes in id order, so a stopped run can continue
// from the last id it reported (or simply start again and skip what is done).
import type { KeyRing } from '../../crypto/key-ring.ts';
import { encodeTemplate } from './codec.ts';
import { openTemplateRow, TEMPLATE_COLUMNS, type TemplateRow } from './store.ts';
import type { TenantKysely } from '../../db/tenant-scope.ts';

export interface RekeyProgress {
  /** Templates re-encrypted so far in this run. */
  rekeyed: number;
  /** Templates that were already under the first key but not yet marked so. */
  relabelled: number;
  /** Id of the last template handled: pass it as `afterId` to resume. */
  lastId: string;
}

export interface RekeyOptions {
  batchSize?: number;
  /** Resume after this template id (ids are compared as UUIDs). */
  afterId?: string;
  onProgress?: (progress: RekeyProgress) => void;
  /**
   * Runs one batch. Default: directly on `db`. Pass a function that opens a tenant transaction per
   * batch so that progress is committed batch by batch and a stop loses at most one batch.
   */
  runBatch?: <T>(work: (db: TenantKysely) => Promise<T>) => Promise<T>;
}

export async function rekeyTemplates(db: TenantKysely, ring: KeyRing, options: RekeyOptions = {}): Promise<RekeyProgress> {
  const { batchSize = 200, afterId, onProgress, runBatch = (work) => work(db) } = options;
  const progress: RekeyProgress = { rekeyed: 0, relabelled: 0, lastId: afterId ?? '00000000-0000-0000-0000-000000000000' };
  for (;;) {
    const handled = await runBatch(async (batchDb) => {
      const rows = (await batchDb
        .selectFrom('face_templates')
        .select([...TEMPLATE_COLUMNS])
        .where('id', '>', progress.lastId)
        .where((eb) => eb.or([eb('key_id', 'is', null), eb('key_id', '!=', ring.primaryKeyId)]))
        .orderBy('id')
        .limit(batchSize)
        .forUpdate()
        .execute()) as TemplateRow[];
      for (const row of rows) {
        const template = openTemplateRow(ring, row);
        if (template.openedWith === ring.primaryKeyId) {
          await batchDb.updateTable('face_templates').set({ key_id: ring.primaryKeyId }).where('id', '=', row.id).execute();
          progress.relabelled += 1;
        } else {
          const ciphertext = ring.encrypt(encodeTemplate(template));
          await batchDb.updateTable('face_templates').set({ ciphertext, key_id: ring.primaryKeyId }).where('id', '=', row.id).execute();
          progress.rekeyed += 1;
        }
      }
      return rows;
    });
    if (handled.length === 0) return progress;
    progress.lastId = handled[handled.length - 1]!.id;
    onProgress?.({ ...progress });
    if (handled.length < batchSize) return progress;
  }
}
