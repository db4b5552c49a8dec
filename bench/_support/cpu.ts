// CPU time actually spent by the processes under test, read from /proc (Linux): the server child
// and, for Facet, every PostgreSQL backend on this machine. Turned into CPU per request it shows
// where the two shared cores went.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function cpuOf(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function commOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Seconds of CPU (user + system) used so far by one process. */
export function processCpuSeconds(pid: number): number {
  return cpuOf(pid);
}

function cmdlineOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/**
 * CPU seconds used so far by each PostgreSQL process that works for `database`: the backends
 * connected to it (the process title names the database) and the server's own processes (WAL
 * writer, checkpointer…, no client in the title). Backends of other databases on the same server
 * (other sessions' test databases, which come and go) and other clusters on the machine are left
 * out; without a name, every PostgreSQL process counts (the old, noisier reading).
 */
export function postgresCpu(database?: string): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || commOf(pid) !== 'postgres') continue;
    if (database) {
      const title = cmdlineOf(pid);
      const backend = /\(\d+\)|\[local\]/.test(title);
      if (backend ? !title.includes(` ${database} `) : !title.startsWith('postgres: ') && !title.includes('/postgres -D')) continue;
    }
    cpu.set(pid, cpuOf(pid));
  }
  return cpu;
}

/** Seconds of CPU used so far by all PostgreSQL processes visible here (approximate: other users of the server count too). */
export function postgresCpuSeconds(database?: string): number {
  let total = 0;
  for (const value of postgresCpu(database).values()) total += value;
  return total;
}

/**
 * CPU used between `start()` and `stop()`, per process group. PostgreSQL (`postgres`: true, or the
 * name of the database served) is summed per process over those alive at the end, so a backend
 * that ends during the window (another session's) cannot make the sum negative; one that started
 * during it counts in full.
 */
export function cpuMeter(pids: Record<string, number>, { postgres = false }: { postgres?: boolean | string } = {}) {
  const database = typeof postgres === 'string' ? postgres : undefined;
  const read = () => ({
    ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuSeconds(pid)])),
    generator: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  });
  const start = read();
  const pgStart = postgres ? postgresCpu(database) : undefined;
  return {
    stop(): Record<string, number> {
      const end = read();
      const result: Record<string, number> = Object.fromEntries(Object.entries(end).map(([name, value]) => [name, value - (start as Record<string, number>)[name]!]));
      if (pgStart) {
        let total = 0;
        for (const [pid, value] of postgresCpu(database)) total += value - (pgStart.get(pid) ?? 0);
        result.postgres = total;
      }
      return result;
    },
  };
}
