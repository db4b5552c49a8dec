// Starting the two servers under test side by side: Facet on a throwaway PostgreSQL database and
// the bare oidc-provider baseline, each in its own child process.
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startServerChild, type ServerChild } from './children.ts';
import { createBenchDatabase, type BenchDatabase } from './database.ts';
import { benchDir } from './report.ts';

export type FacetChild = ServerChild<{ port: number; sub: string; database: string }>;
export type BareChild = ServerChild<{ port: number }>;

export interface Servers {
  database: BenchDatabase;
  facet: FacetChild;
  bare: BareChild;
  close(): Promise<void>;
}

// Outside the repository: .cpuprofile files are large and bench/results ignores only *.json.
export const profilesDir = path.join(os.tmpdir(), 'facet-bench-profiles');

const profiling = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];

export async function startFacetChild(
  database: BenchDatabase,
  { profileDir, env = {}, execArgv = [], readyTimeoutMs }: { profileDir?: string; env?: Record<string, string>; execArgv?: string[]; readyTimeoutMs?: number } = {},
): Promise<FacetChild> {
  return startServerChild('facet', path.join(benchDir, '_support/facet-server.ts'), {
    env: { PORT: String(await freePort()), DATABASE_URL: database.url, ...env },
    execArgv: [...(profileDir ? profiling(profileDir) : []), ...execArgv],
    ...(readyTimeoutMs ? { readyTimeoutMs } : {}),
  });
}

export async function startBareChild({ profileDir }: { profileDir?: string } = {}): Promise<BareChild> {
  return startServerChild('bare oidc-provider', path.join(benchDir, '_support/bare-server.ts'), {
    env: { PORT: String(await freePort()) },
    execArgv: profileDir ? profiling(profileDir) : [],
  });
}

export async function startServers(): Promise<Servers> {
  const database = await createBenchDatabase();
  try {
    const [facet, bare] = await Promise.all([
      startFacetChild(database),
      startBareChild(),
    ]);
    return {
      database,
      facet,
      bare,
      async close() {
        await Promise.allSettled([facet.stop(), bare.stop()]);
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop().catch(() => {});
    throw error;
  }
}

/**
 * Runs `work` against a freshly started child under --cpu-prof (Facet on the same database, or a
 * new bare provider); returns the profile file.
 */
export async function profileChild<C extends FacetChild | BareChild>(start: (options: { profileDir: string }) => Promise<C>, work: (child: C) => Promise<void>): Promise<string> {
  const dir = path.join(profilesDir, String(Date.now()));
  await rm(dir, { recursive: true, force: true });
  const child = await start({ profileDir: dir });
  try {
    await work(child);
  } finally {
    await child.stop();
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error('the profiled child wrote no .cpuprofile');
  return path.join(dir, files[0]!);
}
