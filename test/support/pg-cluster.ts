// A throwaway PostgreSQL cluster for tests that stop or restart the database: the machine's
// PostgreSQL binaries, a temporary data directory, a free port on 127.0.0.1, trust auth. The shared
// server on 5432 is never touched. As root, the cluster runs as the `postgres` user (initdb
// refuses root).
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('no PostgreSQL binaries found (set PG_BIN_DIR)');
  return path.join(root, versions[0]!, 'bin');
}

export interface PgCluster {
  port: number;
  /** Connection string for the `postgres` database as the `postgres` superuser. */
  url: string;
  dataDir: string;
  start(): Promise<void>;
  /** `fast` terminates sessions (57P01), like a real restart or failover. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  restart(): Promise<void>;
  /** Resolves once the server accepts a connection (or throws after `timeoutMs`). */
  waitUntilAccepting(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(path.join(tmpdir(), 'facet-pg-'));
  const dataDir = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: Number(idOf('-u')), gid: Number(idOf('-g')) } : {};
  if (asRoot) chownSync(dir, ids.uid!, ids.gid!);
  const port = await freePort();
  const exec = (cmd: string, args: string[]) => run(path.join(bin, cmd), args, { ...ids, cwd: dir, env: { ...process.env, LC_ALL: 'C' } });
  await exec('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=60`;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const cluster: PgCluster = {
    port,
    url,
    dataDir,
    async start() {
      await exec('pg_ctl', ['-D', dataDir, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
    },
    async stop(mode = 'fast') {
      await exec('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
    },
    async restart() {
      await exec('pg_ctl', ['-D', dataDir, '-o', options, '-l', path.join(dir, 'log'), '-m', 'fast', '-w', 'restart']);
    },
    async waitUntilAccepting(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const client = new pg.Client({ connectionString: url });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('select 1');
          await client.end();
          return;
        } catch (error) {
          await client.end().catch(() => {});
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    },
    async destroy() {
      await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}

function idOf(flag: '-u' | '-g'): string {
  const out = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error('running as root needs a `postgres` user to own the throwaway cluster');
  return out.stdout.trim();
}
