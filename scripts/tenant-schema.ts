// Writes tenants/tenant.schema.json from the zod schema (`node scripts/tenant-schema.ts`).
// A test fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { tenantJsonSchema } from '../src/tenancy/tenant-file.ts';

writeFileSync(new URL('../tenants/tenant.schema.json', import.meta.url), `${JSON.stringify(tenantJsonSchema(), null, 2)}\n`);
console.log('wrote tenants/tenant.schema.json');
