// Reads the shared, read-only test vectors (FACET_VECTORS_DIR overrides the default).
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { vectorsDir } from '../support/shared-data.ts';

export { vectorsDir };

export function readVectors<T>(relative: string): T {
  return JSON.parse(readFileSync(path.join(vectorsDir, relative), 'utf8')) as T;
}
