// Starts a real Facet server for a test file: its own database, a free port on localhost, the
// demo tenant applied, test helpers mounted.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { startFacet, type RunningFacet } from '../../src/server.ts';
import type { AppHooks } from '../../src/app.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { freePort } from './ports.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export { freePort } from './ports.ts';

export interface TestFacet extends RunningFacet {
  config: Config;
  testDb: TestDatabase;
  baseUrl: string;
  close(): Promise<void>;
}

export async function startTestFacet({
  database,
  env = {},
  tenantsDir = path.join(projectRoot, 'tenants'),
  hooks = {},
}: { database?: 'postgres' | 'pglite'; env?: Record<string, string>; tenantsDir?: string; hooks?: AppHooks } = {}): Promise<TestFacet> {
  const testDb = await createTestDatabase(database);
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://localhost:${port}`,
    FACET_TENANTS_DIR: tenantsDir,
    FACET_TEST_HELPERS: '1',
    LOG_LEVEL: 'silent',
    // Every test request comes from 127.0.0.1: per-IP volume limits are raised here and tested on
    // their own (test/core/http.test.ts); per-account lockout stays as shipped.
    FACET_RATE_LIMITS: JSON.stringify({ 'signin.ip': { points: 100000 }, 'signup.ip': { points: 100000 }, 'token.ip': { points: 100000 }, 'stepup.ip': { points: 100000 } }),
    ...testDb.env,
    ...env,
  });
  const running = await startFacet(config, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), hooks });
  return {
    ...running,
    config,
    testDb,
    baseUrl: `http://localhost:${port}`,
    async close() {
      await running.stop(2000);
      await testDb.drop();
    },
  };
}
