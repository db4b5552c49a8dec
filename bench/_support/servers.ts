// Starting the two servers under test side by side: Facet on a throwaway PostgreSQL database and
// the bare oidc-provider baseline, each in its own child process.
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { freePort, startServerChild, type ServerChild } from './children.ts';
import { createBenchDatabase, type BenchDatabase } from './database.ts';
import { benchDir, resultsDir } from './report.ts';

export type FacetChild = ServerChild<{ port: number; sub: string; database: string }>;
export type BareChild = ServerChild<{ port: number }>;

export interface Servers {
  database: BenchDatabase;
  facet: FacetChild;
  bare: BareChild;
  close(): Promise<void>;
}

export const profilesDir = path.join(resultsDir, 'profiles');

export async function startFacetChild(database: BenchDatabase, { profile = false }: { profile?: boolean } = {}): Promise<FacetChild> {
  return startServerChild('facet', path.join(benchDir, '_support/facet-server.ts'), {
    env: { PORT: String(await freePort()), DATABASE_URL: database.url },
    execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${profilesDir}`] : [],
  });
}

export async function startServers(): Promise<Servers> {
  const database = await createBenchDatabase();
  try {
    const [facet, bare] = await Promise.all([
      startFacetChild(database),
      startServerChild<{ port: number }>('bare oidc-provider', path.join(benchDir, '_support/bare-server.ts'), { env: { PORT: String(await freePort()) } }),
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

/** Runs `work` against a freshly started Facet child under --cpu-prof; returns the profile file. */
export async function profileFacet(database: BenchDatabase, work: (facet: FacetChild) => Promise<void>): Promise<string> {
  await rm(profilesDir, { recursive: true, force: true });
  const facet = await startFacetChild(database, { profile: true });
  try {
    await work(facet);
  } finally {
    await facet.stop();
  }
  const files = (await readdir(profilesDir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error('the profiled child wrote no .cpuprofile');
  return path.join(profilesDir, files[0]!);
}
