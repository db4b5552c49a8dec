// Where the shared, read-only test vectors live (FACET_VECTORS_DIR overrides the default).
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const vectorsDir = process.env.FACET_VECTORS_DIR ?? path.resolve(projectRoot, '../shared/vectors');

export function readVectors<T>(relative: string): T {
  return JSON.parse(readFileSync(path.join(vectorsDir, relative), 'utf8')) as T;
}
