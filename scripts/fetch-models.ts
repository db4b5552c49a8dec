// Downloads and verifies the face models listed in models/manifest.json.
// Usage: node scripts/fetch-models.ts [dir] [--all]   (dir defaults to ./models)
import path from 'node:path';
import { fetchModels } from '../src/face/fetch.ts';
import { readManifest } from '../src/face/models.ts';

const args = process.argv.slice(2);
const dir = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(import.meta.dirname, '../models'));
try {
  const result = await fetchModels({ dir, manifest: await readManifest(), onlyRequired: !args.includes('--all'), log: (line) => console.log(line) });
  console.log(`models in ${dir}: ${result.present.length} already present, ${result.downloaded.length} downloaded`);
} catch (error) {
  console.error(`fetch-models: ${(error as Error).message}`);
  process.exit(1);
}
