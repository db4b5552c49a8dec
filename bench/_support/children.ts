// Servers under test run in child processes (never in the load generator's process): forked with
// an IPC channel, they report `{ ready, port, ... }` once listening and exit on `{ stop: true }`.
import { fork, type ChildProcess } from 'node:child_process';

export interface ServerChild<Info> {
  name: string;
  pid: number;
  port: number;
  info: Info;
  /** Ask the child for something (e.g. counters); it answers with the same `id`. */
  request<T>(message: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export { freePort } from '../../test/support/ports.ts';

export async function startServerChild<Info extends { port: number }>(
  name: string,
  script: string,
  { env = {}, execArgv = [], readyTimeoutMs = 60_000 }: { env?: Record<string, string>; execArgv?: string[]; readyTimeoutMs?: number } = {},
): Promise<ServerChild<Info>> {
  const child: ChildProcess = fork(script, [], {
    env: { ...process.env, ...env },
    execArgv: [...process.execArgv, ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, (value: any) => void>();
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.on('message', (message: any) => {
      if (message?.ready) {
        clearTimeout(timer);
        resolve(message as Info);
      } else if (typeof message?.id === 'number') {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited with code ${code} before it was ready`));
    });
  });
  return {
    name,
    pid: child.pid!,
    port: info.port,
    info,
    request<T>(message: Record<string, unknown>) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no answer to ${JSON.stringify(message)}`)), 30_000);
        pending.set(id, (answer) => {
          clearTimeout(timer);
          resolve(answer as T);
        });
        child.send({ ...message, id });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ stop: true });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** In a child: answers the parent's requests and stops cleanly (so --cpu-prof is written). */
export function serveParent(handlers: { stop(): Promise<void>; [name: string]: (message: any) => Promise<unknown> }): void {
  process.on('message', async (message: any) => {
    if (message?.stop) {
      await handlers.stop().catch(() => {});
      process.exit(0);
    }
    const handler = typeof message?.op === 'string' ? handlers[message.op] : undefined;
    const answer = handler ? await handler(message).catch((error: Error) => ({ error: error.message })) : { error: 'unknown op' };
    process.send!({ ...(answer as object), id: message.id });
  });
  process.on('disconnect', () => process.exit(0));
}
