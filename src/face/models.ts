// The model manifest (models/manifest.json) and the start-up check that every required model is
// present and byte-identical to what the manifest names. A missing or altered file disables the
// face factor with a reason an operator can act on; it never crashes the server.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelFiles } from './runners.ts';
import { MOBILEFACENET_PREPROCESS, type EmbedderPreprocess } from './embed.ts';

export interface ModelEntry {
  name: string;
  role: 'detector' | 'detector-fixed' | 'embedder' | 'liveness';
  required: boolean;
  file: string;
  bytes: number;
  sha256: string;
  licence: string;
  url: string;
  project: string;
  input: { name: string; shape: Array<number | string>; size: string; channelOrder: 'RGB' | 'BGR'; normalisation: string };
  outputs: string;
  embeddingSize?: number;
  cropScale?: number;
  defaultThreshold?: number;
  /** Embedders: how an aligned face becomes the model's input (the code follows this, not `input.normalisation`). */
  preprocess?: EmbedderPreprocess;
  /** Why this model is recommended, where it is (SFace: the embedder recommended for production). */
  recommended?: string;
}

export interface ModelManifest { version: number; models: ModelEntry[] }

export const DEFAULT_MANIFEST_PATH = new URL('../../models/manifest.json', import.meta.url);

export async function readManifest(location: string | URL = DEFAULT_MANIFEST_PATH): Promise<ModelManifest> {
  return JSON.parse(await readFile(location, 'utf8')) as ModelManifest;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export type ModelProblem = { model: string; file: string; problem: 'missing' | 'checksum_mismatch' | 'unreadable' };

/** Checks each listed model file; returns the problems found (empty when all are good). */
export async function verifyModels(dir: string, models: ModelEntry[]): Promise<ModelProblem[]> {
  const problems: ModelProblem[] = [];
  for (const model of models) {
    const file = path.join(dir, model.file);
    try {
      await stat(file);
    } catch {
      problems.push({ model: model.name, file, problem: 'missing' });
      continue;
    }
    try {
      if ((await sha256File(file)) !== model.sha256) problems.push({ model: model.name, file, problem: 'checksum_mismatch' });
    } catch {
      problems.push({ model: model.name, file, problem: 'unreadable' });
    }
  }
  return problems;
}

export type LoadedModels =
  | { available: true; files: ModelFiles; embedder: ModelEntry; manifest: ModelManifest }
  | { available: false; reason: string; problems: ModelProblem[] };

export function describeProblems(problems: ModelProblem[]): string {
  return problems
    .map((p) => (p.problem === 'missing' ? `${p.model} is missing (${p.file})` : p.problem === 'checksum_mismatch' ? `${p.model} does not match its sha256 (${p.file})` : `${p.model} cannot be read (${p.file})`))
    .join('; ');
}

/**
 * Verifies the required models in `dir`; never throws for missing or corrupt files. `embedder`
 * names another embedder of the manifest (required or not) to use instead of the required one, so
 * a deployment can evaluate its own choice (`facet face eval --embedder`).
 */
export async function loadModels({ dir, manifest, embedder: embedderName }: { dir: string; manifest?: ModelManifest; embedder?: string }): Promise<LoadedModels> {
  let resolved: ModelManifest;
  try {
    resolved = manifest ?? (await readManifest());
  } catch (cause) {
    return { available: false, reason: `the model manifest cannot be read (${(cause as Error).message})`, problems: [] };
  }
  let required = resolved.models.filter((m) => m.required);
  if (embedderName !== undefined) {
    const chosen = resolved.models.find((m) => m.role === 'embedder' && m.name === embedderName);
    if (!chosen) {
      const names = resolved.models.filter((m) => m.role === 'embedder').map((m) => m.name);
      return { available: false, reason: `the model manifest has no embedder named ${embedderName} (embedders: ${names.join(', ')})`, problems: [] };
    }
    required = [...required.filter((m) => m.role !== 'embedder'), chosen];
  }
  const problems = await verifyModels(dir, required);
  if (problems.length > 0) {
    const fetchAll = required.some((m) => !m.required) ? ' --all' : '';
    return { available: false, reason: `${describeProblems(problems)}. Run \`node scripts/fetch-models.ts ${dir}${fetchAll}\`.`, problems };
  }
  const detector = required.find((m) => m.role === 'detector');
  const embedder = required.find((m) => m.role === 'embedder');
  const liveness = required.filter((m) => m.role === 'liveness');
  if (!detector || !embedder || liveness.length === 0) {
    return { available: false, reason: 'the model manifest must list a detector, an embedder and at least one liveness model', problems: [] };
  }
  return {
    available: true,
    manifest: resolved,
    embedder,
    files: {
      detector: path.join(dir, detector.file),
      embedder: path.join(dir, embedder.file),
      embedderPreprocess: embedder.preprocess ?? MOBILEFACENET_PREPROCESS,
      liveness: liveness.map((m) => ({ file: path.join(dir, m.file), scale: m.cropScale ?? 2.7 })),
    },
  };
}
