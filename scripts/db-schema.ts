// Writes src/db/schema.ts from the migrations (`node scripts/db-schema.ts`): migrates a throwaway
// database (embedded PGlite) and reads its tables back. test/core/db-schema.test.ts fails when the
// committed file no longer matches.
import { writeFileSync } from 'node:fs';
import { generateDbSchema } from '../src/db/schema-reader.ts';

writeFileSync(new URL('../src/db/schema.ts', import.meta.url), await generateDbSchema());
console.log('wrote src/db/schema.ts');
process.exit(0);
