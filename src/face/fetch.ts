// Downloads the manifest's models into a directory and verifies each against its sha256. A file
// already present with the right hash is left alone; a download with the wrong hash is discarded
// (written to a temporary name first, renamed only once verified).
import { createHash } from 'node:crypto';
import { FacetError } from '../errors/facet-error.ts';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { verifyModels, type ModelEntry, type ModelManifest } from './models.ts';

export class ModelFetchError extends FacetError {
  readonly code = 'model_fetch_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFetchError';
  }
}

export interface FetchModelsOptions {
  dir: string;
  manifest: ModelManifest;
  /** Fetch only the models the engine needs (default) or every listed one. */
  onlyRequired?: boolean;
  fetch?: typeof globalThis.fetch;
  log?: (line: string) => void;
}

export interface FetchModelsResult { present: string[]; downloaded: string[] }

export async function fetchModels({ dir, manifest, onlyRequired = true, fetch = globalThis.fetch, log = () => {} }: FetchModelsOptions): Promise<FetchModelsResult> {
  await mkdir(dir, { recursive: true });
  const wanted = manifest.models.filter((m) => m.required || !onlyRequired);
  const result: FetchModelsResult = { present: [], downloaded: [] };
  for (const model of wanted) {
    const [problem] = await verifyModels(dir, [model]);
    if (!problem) {
      result.present.push(model.name);
      log(`${model.name}: present, sha256 ok`);
      continue;
    }
    log(`${model.name}: ${problem.problem}, downloading ${model.url}`);
    await download(model, dir, fetch);
    result.downloaded.push(model.name);
    log(`${model.name}: downloaded, sha256 ok`);
  }
  return result;
}

async function download(model: ModelEntry, dir: string, fetch: typeof globalThis.fetch): Promise<void> {
  let bytes: Uint8Array;
  try {
    const response = await fetch(model.url, { redirect: 'follow' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (cause) {
    throw new ModelFetchError(`${model.name}: download from ${model.url} failed`, { cause });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== model.sha256) throw new ModelFetchError(`${model.name}: downloaded file has sha256 ${actual}, the manifest expects ${model.sha256}`);
  const target = path.join(dir, model.file);
  const partial = `${target}.partial`;
  try {
    await writeFile(partial, bytes);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}
