// Facet as a separate process (`node src/main.ts`), for tests where the process itself is under
// test: does it survive a fault, does it exit on SIGTERM, and how fast.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from './facet.ts';
import { freePort } from './ports.ts';

export interface FacetProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  readonly alive: boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts Facet with the demo tenant on a free port; `env` is added to a clean test environment. */
export async function startFacetProcess(env: Record<string, string>, { timeoutMs = 60_000 } = {}): Promise<FacetProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/main.ts')], {
    cwd: projectRoot,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: '',
      REDIS_URL: '',
      FACET_DATA_DIR: 'memory://',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://localhost:${port}`,
      LOG_LEVEL: 'warn',
      FACET_TEST_HELPERS: '1',
      FACET_RATE_LIMITS: JSON.stringify({ 'signin.ip': { points: 100000 }, 'token.ip': { points: 100000 }, 'token.account': { points: 100000 }, 'admin.ip': { points: 100000 }, 'admin.account': { points: 100000 } }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal, at: Date.now() });
    }),
  );
  const deadline = Date.now() + timeoutMs;
  while (!output.includes('Facet is running')) {
    if (!alive) throw new Error(`facet exited during start:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`facet did not start within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    port,
    baseUrl: `http://localhost:${port}`,
    output: () => output,
    exited,
    get alive() {
      return alive;
    },
    async kill(signal = 'SIGKILL') {
      if (!alive) return;
      child.kill(signal);
      await exited;
    },
  };
}
