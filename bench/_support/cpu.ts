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

/** Seconds of CPU used so far by all PostgreSQL processes visible here (approximate: other users of the server count too). */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (/^\d+$/.test(pid) && commOf(pid) === 'postgres') total += cpuOf(pid);
  }
  return total;
}

/** CPU used between `start()` and `stop()`, per process group. */
export function cpuMeter(pids: Record<string, number>, { postgres = false }: { postgres?: boolean } = {}) {
  const read = () => ({
    ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuSeconds(pid)])),
    ...(postgres ? { postgres: postgresCpuSeconds() } : {}),
    generator: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  });
  const start = read();
  return {
    stop(): Record<string, number> {
      const end = read();
      return Object.fromEntries(Object.entries(end).map(([name, value]) => [name, value - (start as Record<string, number>)[name]!]));
    },
  };
}
